"""An offline carrier lookup for the sandbox, built on libphonenumber's own data (no network, no cost).

It stands in for End User Messaging's phone number validation (Pinpoint PhoneNumberValidate):
every valid number is answered from libphonenumber's type, carrier and time-zone data, and a few
fictional test numbers (555-01xx, reserved for fiction) answer as what a real lookup could say,
so every rejection path can be tried in the browser.
"""

from __future__ import annotations

from typing import Final

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, carrier

from optin.phone_numbers import CarrierInfo, time_zone_for
from optin.ports import DependencyUnavailable

# Carrier lookup type codes (optin.phone_numbers.PHONE_TYPE_NAMES).
MOBILE, LANDLINE, VOIP, INVALID, OTHER, PREPAID = 0, 1, 2, 3, 4, 5

#: Test numbers and the phone type the sandbox's lookup reports for them. Any other valid US or
#: Canadian number is a mobile.
TEST_NUMBERS: Final[dict[str, int]] = {
    "+12065550111": LANDLINE,
    "+12065550122": VOIP,
    "+12065550133": PREPAID,
    "+12065550144": INVALID,  # "not in service"
}
#: A test number whose lookup fails as if the AWS service were down: the API answers 503.
UNAVAILABLE_NUMBER: Final = "+12065550199"

_TYPE_CODES: Final[dict[int, int]] = {
    PhoneNumberType.MOBILE: MOBILE,
    # US and Canadian numbers do not tell mobiles from fixed lines; a real lookup would ask the
    # carrier. The sandbox calls them mobiles (the test numbers above cover the other answers).
    PhoneNumberType.FIXED_LINE_OR_MOBILE: MOBILE,
    PhoneNumberType.FIXED_LINE: LANDLINE,
    PhoneNumberType.VOIP: VOIP,
}
SANDBOX_CARRIER: Final = "Sandbox Wireless"


class OfflineCarrierLookup:
    """:class:`optin.ports.CarrierLookup` from libphonenumber's offline data."""

    def __init__(
        self, test_numbers: dict[str, int] | None = None, unavailable: str = UNAVAILABLE_NUMBER
    ) -> None:
        self._test_numbers = dict(TEST_NUMBERS if test_numbers is None else test_numbers)
        self._unavailable = unavailable

    def lookup(self, e164: str, country: str | None) -> CarrierInfo:
        if e164 == self._unavailable:
            raise DependencyUnavailable("looking up the phone number: sandbox test number for an outage")
        try:
            number = phonenumbers.parse(e164, None)
        except NumberParseException:
            return CarrierInfo(e164=e164, country=country, phone_type_code=INVALID)
        if not phonenumbers.is_valid_number(number):
            return CarrierInfo(e164=e164, country=country, phone_type_code=INVALID)
        code = self._test_numbers.get(e164)
        if code is None:
            code = _TYPE_CODES.get(phonenumbers.number_type(number), OTHER)
        if code == INVALID:
            return CarrierInfo(e164=e164, country=country, phone_type_code=INVALID)
        return CarrierInfo(
            e164=e164,
            country=phonenumbers.region_code_for_number(number) or country,
            phone_type_code=code,
            carrier=carrier.name_for_number(number, "en") or SANDBOX_CARRIER,
            # No city: End User Messaging's lookup no longer returns one for US and CA numbers. (Nor does
            # the sandbox load libphonenumber's geocoder, whose tables alone take about 100 MB.)
            city=None,
            timezone=time_zone_for(e164),
        )
