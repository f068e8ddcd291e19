"""Sending countries: a protect configuration that lets End User Messaging text only the allowed countries.

The functions already refuse numbers outside ``allowedCountries`` before any paid call. The protect
configuration is the second line: associated with the stack's configuration set, it makes End User
Messaging itself refuse (``TEXT_PROTECT_BLOCKED``) any SMS to another country, so a bypassed or buggy
precheck still cannot pay for a text abroad (SMS pumping targets exactly that).

A protect configuration starts with every country set to ALLOW (CloudFormation's
``AWS::SMSVOICE::ProtectConfiguration``: "By default all country rule sets for each capability are set to
ALLOW"), so blocking "everything else" means listing every country End User Messaging can send SMS to.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_smsvoice as smsvoice
from constructs import Construct

ALLOW = "ALLOW"
BLOCK = "BLOCK"
# AWS's artificially-inflated-traffic filter: allowed, but messages its model scores as pumping are dropped.
FILTER = "FILTER"

# Every country and region End User Messaging sends SMS to, ISO 3166-1 alpha-2 -> name.
# Source: AWS, "Supported countries and regions (SMS channel)", the table of the SMS user guide
# (https://docs.aws.amazon.com/sms-voice/latest/userguide/phone-numbers-sms-by-country.html), taken from
# the guide's published source (github.com/awsdocs/amazon-pinpoint-user-guide,
# doc-source/channels-sms-countries.md, commit 031a8b03172618e3b7e49cd6c20901c8fa7c2ea6), plus Angola
# (AO), which the current "Supported countries" Africa page of the End User Messaging guide lists.
# Corrections to that table: Tuvalu is TV (the table repeats Turks and Caicos' TC); "Kosovo KV" and
# "Netherlands Antilles AN" are left out: neither is an ISO 3166-1 code (AN was withdrawn in 2010), and a
# code End User Messaging does not know could fail the deployment. The API takes at most 300 rules per
# capability. Compare with the live page before relying on a block for a country not listed here.
SMS_COUNTRIES: dict[str, str] = {
    "AD": "Andorra",
    "AE": "United Arab Emirates",
    "AF": "Afghanistan",
    "AG": "Antigua and Barbuda",
    "AI": "Anguilla",
    "AL": "Albania",
    "AM": "Armenia",
    "AO": "Angola",
    "AR": "Argentina",
    "AT": "Austria",
    "AU": "Australia",
    "AW": "Aruba",
    "AZ": "Azerbaijan",
    "BA": "Bosnia and Herzegovina",
    "BB": "Barbados",
    "BD": "Bangladesh",
    "BE": "Belgium",
    "BF": "Burkina Faso",
    "BG": "Bulgaria",
    "BH": "Bahrain",
    "BI": "Burundi",
    "BM": "Bermuda",
    "BN": "Brunei",
    "BO": "Bolivia",
    "BR": "Brazil",
    "BS": "Bahamas",
    "BT": "Bhutan",
    "BW": "Botswana",
    "BY": "Belarus",
    "BZ": "Belize",
    "CA": "Canada",
    "CD": "Democratic Republic of the Congo",
    "CF": "Central African Republic",
    "CG": "Republic of the Congo",
    "CH": "Switzerland",
    "CI": "Ivory Coast",
    "CK": "Cook Islands",
    "CL": "Chile",
    "CM": "Cameroon",
    "CN": "China",
    "CO": "Colombia",
    "CR": "Costa Rica",
    "CV": "Cape Verde",
    "CY": "Cyprus",
    "CZ": "Czechia",
    "DE": "Germany",
    "DJ": "Djibouti",
    "DK": "Denmark",
    "DM": "Dominica",
    "DO": "Dominican Republic",
    "DZ": "Algeria",
    "EC": "Ecuador",
    "EE": "Estonia",
    "EG": "Egypt",
    "ER": "Eritrea",
    "ES": "Spain",
    "ET": "Ethiopia",
    "FI": "Finland",
    "FJ": "Fiji",
    "FM": "Micronesia",
    "FO": "Faroe Islands",
    "FR": "France",
    "GA": "Gabon",
    "GB": "United Kingdom",
    "GD": "Grenada",
    "GE": "Georgia",
    "GF": "French Guiana",
    "GG": "Guernsey",
    "GH": "Ghana",
    "GI": "Gibraltar",
    "GL": "Greenland",
    "GM": "Gambia",
    "GN": "Guinea",
    "GP": "Guadeloupe",
    "GQ": "Equatorial Guinea",
    "GR": "Greece",
    "GT": "Guatemala",
    "GU": "Guam",
    "GW": "Guinea-Bissau",
    "GY": "Guyana",
    "HK": "Hong Kong",
    "HN": "Honduras",
    "HR": "Croatia",
    "HT": "Haiti",
    "HU": "Hungary",
    "ID": "Indonesia",
    "IE": "Ireland",
    "IL": "Israel",
    "IM": "Isle of Man",
    "IN": "India",
    "IQ": "Iraq",
    "IS": "Iceland",
    "IT": "Italy",
    "JE": "Jersey",
    "JM": "Jamaica",
    "JO": "Jordan",
    "JP": "Japan",
    "KE": "Kenya",
    "KG": "Kyrgyzstan",
    "KH": "Cambodia",
    "KM": "Comoros",
    "KN": "Saint Kitts and Nevis",
    "KR": "South Korea",
    "KW": "Kuwait",
    "KY": "Cayman Islands",
    "KZ": "Kazakhstan",
    "LA": "Laos",
    "LB": "Lebanon",
    "LC": "Saint Lucia",
    "LI": "Liechtenstein",
    "LK": "Sri Lanka",
    "LR": "Liberia",
    "LS": "Lesotho",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "LV": "Latvia",
    "LY": "Libya",
    "MA": "Morocco",
    "MC": "Monaco",
    "MD": "Moldova",
    "ME": "Montenegro",
    "MG": "Madagascar",
    "MH": "Marshall Islands",
    "MK": "Macedonia",
    "ML": "Mali",
    "MM": "Myanmar",
    "MN": "Mongolia",
    "MO": "Macau",
    "MQ": "Martinique",
    "MR": "Mauritania",
    "MS": "Montserrat",
    "MT": "Malta",
    "MU": "Mauritius",
    "MV": "Maldives",
    "MW": "Malawi",
    "MX": "Mexico",
    "MY": "Malaysia",
    "MZ": "Mozambique",
    "NA": "Namibia",
    "NC": "New Caledonia",
    "NE": "Niger",
    "NG": "Nigeria",
    "NI": "Nicaragua",
    "NL": "Netherlands",
    "NO": "Norway",
    "NP": "Nepal",
    "NU": "Niue",
    "NZ": "New Zealand",
    "OM": "Oman",
    "PA": "Panama",
    "PE": "Peru",
    "PF": "French Polynesia",
    "PG": "Papua New Guinea",
    "PH": "Philippines",
    "PK": "Pakistan",
    "PL": "Poland",
    "PR": "Puerto Rico",
    "PS": "Palestine",
    "PT": "Portugal",
    "PY": "Paraguay",
    "QA": "Qatar",
    "RE": "Réunion",
    "RO": "Romania",
    "RS": "Serbia",
    "RU": "Russia",
    "RW": "Rwanda",
    "SA": "Saudi Arabia",
    "SB": "Solomon Islands",
    "SC": "Seychelles",
    "SE": "Sweden",
    "SG": "Singapore",
    "SI": "Slovenia",
    "SK": "Slovakia",
    "SL": "Sierra Leone",
    "SM": "San Marino",
    "SN": "Senegal",
    "SO": "Somalia",
    "SR": "Suriname",
    "SS": "South Sudan",
    "ST": "São Tomé and Príncipe",
    "SV": "El Salvador",
    "SZ": "Swaziland",
    "TC": "Turks and Caicos Islands",
    "TD": "Chad",
    "TG": "Togo",
    "TH": "Thailand",
    "TJ": "Tajikistan",
    "TL": "Timor-Leste",
    "TM": "Turkmenistan",
    "TN": "Tunisia",
    "TO": "Tonga",
    "TR": "Turkey",
    "TT": "Trinidad and Tobago",
    "TV": "Tuvalu",
    "TW": "Taiwan",
    "TZ": "Tanzania",
    "UA": "Ukraine",
    "UG": "Uganda",
    "US": "United States",
    "UY": "Uruguay",
    "UZ": "Uzbekistan",
    "VE": "Venezuela",
    "VG": "British Virgin Islands",
    "VI": "US Virgin Islands",
    "VN": "Vietnam",
    "VU": "Vanuatu",
    "WS": "Samoa",
    "YE": "Yemen",
    "YT": "Mayotte",
    "ZA": "South Africa",
    "ZM": "Zambia",
    "ZW": "Zimbabwe",
}


def sms_country_rules(allowed: Iterable[str], *, traffic_filter: bool = False) -> dict[str, str]:
    """Country -> protect status for SMS: the allowed countries ALLOW (or FILTER), every other BLOCK."""
    allowed_status = FILTER if traffic_filter else ALLOW
    allowed_set = {country.upper() for country in allowed}
    rules = {country: BLOCK for country in SMS_COUNTRIES}
    rules.update({country: allowed_status for country in allowed_set})
    return dict(sorted(rules.items()))


class SendingCountries(Construct):
    """The protect configuration; associate it with a configuration set through :attr:`id`."""

    def __init__(
        self, scope: Construct, construct_id: str, *, allowed: Iterable[str], traffic_filter: bool
    ) -> None:
        super().__init__(scope, construct_id)
        self.rules = sms_country_rules(allowed, traffic_filter=traffic_filter)
        self.protect_configuration = smsvoice.CfnProtectConfiguration(
            self,
            "ProtectConfiguration",
            country_rule_set=smsvoice.CfnProtectConfiguration.CountryRuleSetProperty(
                sms=[
                    smsvoice.CfnProtectConfiguration.CountryRuleProperty(
                        country_code=country, protect_status=status
                    )
                    for country, status in self.rules.items()
                ]
            ),
        )

    @property
    def id(self) -> str:
        return self.protect_configuration.attr_protect_configuration_id
