"""Signed, expiring acknowledgement links for email.

``{base}/incidents/{incident_id}/ack?exp=<epoch seconds>&sig=<hex>`` where ``sig`` is
HMAC-SHA256 over ``f"{incident_id}.{exp}"`` with the stack's ack secret. The link proves that
its holder received the incident's email; it expires (24 h by default) so that an old mail cannot
acknowledge a later episode (the incident id names the episode anyway).
"""

import hashlib
import hmac
import re
from datetime import datetime
from urllib.parse import quote, urlencode

from opswire.core.errors import PermanentError

ACK_ACTION_ID = "acknowledge"
"""``action_id`` of the Slack "Acknowledge" button; its ``value`` is the incident id."""
DEFAULT_TTL_SECONDS = 24 * 3600
INCIDENT_ID_PATTERN = re.compile(r"^[0-9a-f]{24}-[0-9]{1,9}$")
_SIGNATURE_PATTERN = re.compile(r"^[0-9a-f]{64}$")


class AckLinkError(PermanentError):
    """The link is malformed, or its signature does not match."""


class AckLinkMalformedError(AckLinkError):
    """The incident id or the expiry is not in the form we write."""


class AckLinkExpiredError(AckLinkError):
    """The link was genuine but is past its expiry."""


def link_hmac(key: str, *parts: object) -> str:
    """HMAC-SHA256 (hex) over the parts joined by dots: the signature of every signed link
    (acknowledgement here, deployment approval in opswire.deployments.approval)."""
    message = ".".join(str(part) for part in parts).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def ack_signature(incident_id: str, expires: int | str, key: str) -> str:
    return link_hmac(key, incident_id, expires)


def ack_link(
    base_url: str,
    incident_id: str,
    key: str,
    now: datetime,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
) -> str:
    expires = int(now.timestamp()) + ttl_seconds
    query = urlencode({"exp": expires, "sig": ack_signature(incident_id, expires, key)})
    return f"{base_url.rstrip('/')}/incidents/{quote(incident_id, safe='')}/ack?{query}"


def verify_ack_link(
    incident_id: str, expires: str | None, signature: str | None, key: str, now: datetime
) -> None:
    """Raise AckLinkMalformedError for an incident id or expiry we never write, AckLinkError
    unless ``signature`` is ours for this incident and expiry, and AckLinkExpiredError when it is
    ours but expired. The signature is checked (in constant time) before the expiry, so that an
    expired forged link is not told apart from any other forged one."""
    if not INCIDENT_ID_PATTERN.fullmatch(incident_id):
        raise AckLinkMalformedError("the incident id is malformed")
    if not expires or not expires.isdigit() or len(expires) > 12:
        raise AckLinkMalformedError("the link has no valid expiry")
    if not signature or not _SIGNATURE_PATTERN.fullmatch(signature):
        raise AckLinkError("the acknowledgement link is not signed")
    expected = ack_signature(incident_id, expires, key)
    if not hmac.compare_digest(expected, signature):
        raise AckLinkError("the acknowledgement link is not valid")
    if int(expires) <= int(now.timestamp()):
        raise AckLinkExpiredError("the acknowledgement link has expired")
