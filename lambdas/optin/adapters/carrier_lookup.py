"""Carrier lookup with End User Messaging phone number validation (Pinpoint PhoneNumberValidate)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from optin.adapters.aws import error_code, unavailable_on_failure
from optin.phone_numbers import CarrierInfo


class PhoneValidateLookup:
    def __init__(self, client: Any) -> None:
        self._pinpoint = client

    def lookup(self, e164: str, country: str | None) -> CarrierInfo:
        request: dict[str, str] = {"PhoneNumber": e164}
        if country:
            request["IsoCountryCode"] = country
        with unavailable_on_failure("looking up the phone number"):
            try:
                response = self._pinpoint.phone_number_validate(NumberValidateRequest=request)
            except ClientError as exc:
                if error_code(exc) == "BadRequestException":
                    # The service could not make sense of the number: it is not one we can text.
                    return CarrierInfo(e164=e164, country=country, phone_type_code=3)
                raise
        data = response["NumberValidateResponse"]
        return CarrierInfo(
            e164=data.get("CleansedPhoneNumberE164") or e164,
            country=data.get("CountryCodeIso2") or country,
            phone_type_code=int(data.get("PhoneTypeCode", 4)),
            carrier=data.get("Carrier"),
            city=data.get("City"),
            zip_code=data.get("ZipCode"),
            timezone=data.get("Timezone"),
        )
