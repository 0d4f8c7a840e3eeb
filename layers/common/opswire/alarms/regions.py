"""CloudWatch region display names -> region codes.

The SNS alarm message's ``Region`` is a display name ("EU (Ireland)", "US (Virginia)"); the
parser reads the region from the alarm ARN first, then this table, then the region of the topic
the message came through.
"""

import re
import unicodedata

from opswire.alarms.models.alarm import REGION_CODE_PATTERN

# Display names CloudWatch puts in the SNS ``Region`` field, by region code. Both the old
# "EU (...)" and the newer "Europe (...)" spellings are matched (see ``_region_key``).
_REGION_NAMES: dict[str, str] = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "af-south-1": "Africa (Cape Town)",
    "ap-east-1": "Asia Pacific (Hong Kong)",
    "ap-east-2": "Asia Pacific (Taipei)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-south-2": "Asia Pacific (Hyderabad)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-southeast-3": "Asia Pacific (Jakarta)",
    "ap-southeast-4": "Asia Pacific (Melbourne)",
    "ap-southeast-5": "Asia Pacific (Malaysia)",
    "ap-southeast-7": "Asia Pacific (Thailand)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)",
    "ca-central-1": "Canada (Central)",
    "ca-west-1": "Canada West (Calgary)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-central-2": "EU (Zurich)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "eu-south-1": "EU (Milan)",
    "eu-south-2": "EU (Spain)",
    "eu-north-1": "EU (Stockholm)",
    "il-central-1": "Israel (Tel Aviv)",
    "me-south-1": "Middle East (Bahrain)",
    "me-central-1": "Middle East (UAE)",
    "mx-central-1": "Mexico (Central)",
    "sa-east-1": "South America (Sao Paulo)",
    "us-gov-east-1": "AWS GovCloud (US-East)",
    "us-gov-west-1": "AWS GovCloud (US-West)",
    "cn-north-1": "China (Beijing)",
    "cn-northwest-1": "China (Ningxia)",
}


def _region_key(name: str) -> str:
    """Comparison key: "EU (Ireland)", "Europe (Ireland)", "eu - ireland" -> "euireland"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]", "", ascii_name.lower())
    return key.replace("europe", "eu", 1) if key.startswith("europe") else key


_REGION_CODES_BY_KEY = {_region_key(name): code for code, name in _REGION_NAMES.items()}
_REGION_CODES_BY_KEY[_region_key("AWS GovCloud (US)")] = "us-gov-west-1"
# The newer short spellings of the US regions ("US (Virginia)" in some consoles and messages).
for _alias, _code in (
    ("US (Virginia)", "us-east-1"),
    ("US (N. Virginia)", "us-east-1"),
    ("US (Ohio)", "us-east-2"),
    ("US (California)", "us-west-1"),
    ("US (N. California)", "us-west-1"),
    ("US (Oregon)", "us-west-2"),
    ("US East (Virginia)", "us-east-1"),
    ("US West (California)", "us-west-1"),
    ("Asia Pacific (Taipei)", "ap-east-2"),
):
    _REGION_CODES_BY_KEY.setdefault(_region_key(_alias), _code)


def region_code(name: str) -> str | None:
    """The region code for a CloudWatch region display name (or a code), None if unknown."""
    candidate = name.strip()
    if re.fullmatch(REGION_CODE_PATTERN, candidate):
        return candidate
    return _REGION_CODES_BY_KEY.get(_region_key(candidate))
