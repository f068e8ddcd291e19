"""Abuse and cost protection in code, where WAF cannot see: a spend circuit breaker on paid lookups and
confirmation texts, blocking of number ranges under SMS pumping, and a per-IP limit on registrations."""
