"""Signed acknowledgement links: the link we write verifies; anything altered, expired or
malformed does not."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from opswire.channels.signed_links import (
    AckLinkError,
    AckLinkExpiredError,
    AckLinkMalformedError,
    ack_link,
    ack_signature,
    verify_ack_link,
)

KEY = "0123456789abcdef0123456789abcdef"
INCIDENT = "72bd97d3a3f45018a41be7c5-3"
NOW = datetime(2026, 3, 14, 9, 21, 7, tzinfo=UTC)


def parts(url: str) -> tuple[str, str, str]:
    split = urlsplit(url)
    query = parse_qs(split.query)
    return split.path.split("/")[2], query["exp"][0], query["sig"][0]


def test_the_link_points_at_the_ack_route_and_expires_in_24_hours() -> None:
    url = ack_link("https://abc.execute-api.eu-west-1.amazonaws.com/", INCIDENT, KEY, NOW)

    assert url.startswith(
        f"https://abc.execute-api.eu-west-1.amazonaws.com/incidents/{INCIDENT}/ack?exp="
    )
    incident, expires, signature = parts(url)
    assert incident == INCIDENT
    assert int(expires) == int(NOW.timestamp()) + 24 * 3600
    assert signature == ack_signature(INCIDENT, expires, KEY)
    assert len(signature) == 64


def test_the_link_we_write_verifies_until_it_expires() -> None:
    _incident, expires, signature = parts(ack_link("https://x", INCIDENT, KEY, NOW, 3600))

    verify_ack_link(INCIDENT, expires, signature, KEY, NOW + timedelta(minutes=59))
    with pytest.raises(AckLinkExpiredError):
        verify_ack_link(INCIDENT, expires, signature, KEY, NOW + timedelta(hours=1))


def test_the_signature_is_hmac_sha256_of_incident_and_expiry() -> None:
    import hashlib
    import hmac

    expected = hmac.new(KEY.encode(), f"{INCIDENT}.1773480067".encode(), hashlib.sha256)
    assert ack_signature(INCIDENT, 1773480067, KEY) == expected.hexdigest()


@pytest.mark.parametrize(
    ("incident", "expires_delta", "signature_change", "key"),
    [
        ("72bd97d3a3f45018a41be7c5-4", 0, None, KEY),  # another episode
        (INCIDENT, 3600, None, KEY),  # a later expiry
        (INCIDENT, 0, "flip", KEY),  # a changed signature
        (INCIDENT, 0, None, "another-key"),  # signed by someone else
    ],
    ids=["other-incident", "extended-expiry", "tampered-signature", "other-key"],
)
def test_any_change_to_the_link_is_rejected(
    incident: str, expires_delta: int, signature_change: str | None, key: str
) -> None:
    _incident, expires, signature = parts(ack_link("https://x", INCIDENT, key, NOW))
    expires = str(int(expires) + expires_delta)
    if signature_change == "flip":
        signature = ("0" if signature[0] != "0" else "1") + signature[1:]

    with pytest.raises(AckLinkError) as info:
        verify_ack_link(incident, expires, signature, KEY, NOW)
    assert type(info.value) is AckLinkError


def test_an_expired_forgery_is_a_forgery_not_an_expired_link() -> None:
    _incident, expires, _signature = parts(ack_link("https://x", INCIDENT, KEY, NOW, 60))
    with pytest.raises(AckLinkError) as info:
        verify_ack_link(INCIDENT, expires, "ab" * 32, KEY, NOW + timedelta(days=2))
    assert type(info.value) is AckLinkError


@pytest.mark.parametrize("signature", [None, "", "xyz", "AB" * 32, "ab" * 31, "ab" * 33])
def test_a_missing_or_malformed_signature_is_not_valid(signature: str | None) -> None:
    with pytest.raises(AckLinkError) as info:
        verify_ack_link(INCIDENT, "9999999999", signature, KEY, NOW)
    assert type(info.value) is AckLinkError


@pytest.mark.parametrize(
    ("incident", "expires"),
    [
        ("not-an-incident", "9999999999"),
        ("../../etc/passwd", "9999999999"),
        (INCIDENT, None),
        (INCIDENT, ""),
        (INCIDENT, "-1"),
        (INCIDENT, "1e9"),
        (INCIDENT, "9" * 13),
    ],
)
def test_a_malformed_incident_or_expiry_is_malformed(incident: str, expires: str | None) -> None:
    with pytest.raises(AckLinkMalformedError):
        verify_ack_link(incident, expires, "ab" * 32, KEY, NOW)


def test_an_expiry_with_leading_zeros_is_not_the_signed_expiry() -> None:
    _incident, expires, signature = parts(ack_link("https://x", INCIDENT, KEY, NOW))
    with pytest.raises(AckLinkError):
        verify_ack_link(INCIDENT, "0" + expires, signature, KEY, NOW)
