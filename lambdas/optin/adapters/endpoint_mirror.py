"""Mirror contacts to Pinpoint endpoints, in the tutorial's shape, where the account still has Pinpoint.

Endpoint id = E.164 without '+'; OptOut ALL until the contact is CONFIRMED. The contacts store
stays the system of record: the caller treats a failure here as a warning, never as a failed opt-in.
"""

from __future__ import annotations

from typing import Any

from optin.adapters.aws import unavailable_on_failure
from optin.clock import iso
from optin.consent import Contact, Status


def _present(**values: str | None) -> dict[str, str]:
    return {key: value for key, value in values.items() if value}


def endpoint_request(contact: Contact) -> dict[str, Any]:
    request: dict[str, Any] = {
        "ChannelType": "SMS",
        "Address": contact.phone,
        "OptOut": "NONE" if contact.status == Status.CONFIRMED else "ALL",
        "Location": _present(Country=contact.country, City=contact.city, PostalCode=contact.postal_code),
        "Demographic": _present(Timezone=contact.timezone),
        "Attributes": {"Source": [contact.source]},
        "User": {"UserAttributes": {"FirstName": [contact.first_name], "LastName": [contact.last_name]}},
    }
    if contact.status == Status.CONFIRMED and contact.confirmed_at:
        request["Attributes"]["OptInTimestamp"] = [iso(contact.confirmed_at)]
    if contact.status == Status.OPTED_OUT and contact.opted_out_at:
        request["Attributes"]["OptOutTimestamp"] = [iso(contact.opted_out_at)]
    return request


class PinpointEndpointMirror:
    def __init__(self, client: Any, project_id: str) -> None:
        self._pinpoint = client
        self._project_id = project_id

    def mirror(self, contact: Contact) -> None:
        with unavailable_on_failure("mirroring the Pinpoint endpoint"):
            self._pinpoint.update_endpoint(
                ApplicationId=self._project_id,
                EndpointId=contact.phone.lstrip("+"),
                EndpointRequest=endpoint_request(contact),
            )
