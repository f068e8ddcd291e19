"""Delivery events of our texts: End User Messaging's TEXT_* events, matched back to the send that caused
them through the ``Context`` each send passes (optin.outbound), recorded on the contact (the confirmation
SMS) or in the audit trail (replies, follow-ups)."""
