"""The custom channel: WhatsApp template messages to confirmed contacts.

- ``templates``: what a custom-channel ``Data`` may say, the Cloud API body, the transport port (pure);
- ``delivery``: delivering one batch, concurrently, paced and retried, one result per endpoint;
- ``pacing``: the time budget, the token bucket and backoff the delivery uses (pure);
- ``broadcast``: broadcasts to CONFIRMED contacts through the broadcast queue, without Pinpoint.

The transports themselves (Meta's Graph API, End User Messaging Social) are adapters
(``optin.adapters.whatsapp_graph``, ``optin.adapters.whatsapp_social``).
"""
