"""One HTTPS GET with a secret header, for testSecret of generic secrets.

TLS is verified against the default trust store (``SSL_CERT_FILE`` is honoured by OpenSSL).
Neither the header value nor the response body (which may echo it) reaches a message.
"""

import ssl
import urllib.error
import urllib.request

from opswire.core.errors import RotationTestFailedError


class HttpsEndpointChecker:
    def __init__(self, timeout_seconds: int = 10) -> None:
        self._timeout = timeout_seconds

    def status_with_header(self, url: str, header: str, value: str) -> int:
        if not url.startswith("https://"):
            raise RotationTestFailedError("the test endpoint must be an https:// URL")
        request = urllib.request.Request(url, headers={header: value}, method="GET")
        context = ssl.create_default_context()
        try:
            with urllib.request.urlopen(request, timeout=self._timeout, context=context) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            return int(exc.code)
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RotationTestFailedError(
                f"the test endpoint {url} could not be reached: {type(reason).__name__}"
            ) from None
