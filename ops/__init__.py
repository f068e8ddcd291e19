"""Operator tools that run against a deployed stack with the operator's own AWS credentials."""
