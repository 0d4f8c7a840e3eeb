"""Email through Amazon SES: a MIME message (text + HTML alternative) sent with SendRawEmail.

Raw MIME rather than ``SendEmail`` so that threading headers (Message-ID, In-Reply-To,
References) can be set. SES replaces a Message-ID it is given with its own, but keeps
In-Reply-To and References: threading relies on References (see opswire.alarms.delivery).
"""

from collections.abc import Mapping
from email.message import EmailMessage

from botocore.exceptions import ClientError

from opswire.channels.ports import EmailContent
from opswire.core.aws import ses_client
from opswire.core.errors import EmailDeliveryError, EmailRetryableError

_RETRYABLE_CODES = frozenset(
    {"Throttling", "ThrottlingException", "ServiceUnavailable", "InternalFailure"}
)


def build_mime_message(
    sender: str,
    recipients: list[str],
    content: EmailContent,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = content.subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    return message


class SesEmailSender:
    def send(
        self,
        *,
        sender: str,
        recipients: list[str],
        content: EmailContent,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Send one message to ``recipients`` with extra ``headers``; return the SES message id."""
        message = build_mime_message(sender, recipients, content, headers)
        try:
            # No Destinations: SES takes them from the To header, as it does for a mail client.
            response = ses_client().send_raw_email(
                Source=sender, RawMessage={"Data": message.as_bytes()}
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "Unknown")
            # SES says which identity failed ("Email address is not verified. The following
            # identities failed the check ...: ops@example.com"): the reason an operator needs.
            detail = str(error.get("Message") or "").strip()
            reason = f"SES refused the message: {code}" + (f": {detail[:300]}" if detail else "")
            if code in _RETRYABLE_CODES:
                raise EmailRetryableError(reason) from exc
            raise EmailDeliveryError(reason) from exc
        return response["MessageId"]
