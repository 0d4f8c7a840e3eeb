"""Email through Amazon SES (``SendEmail`` with a text and an HTML part)."""

from botocore.exceptions import ClientError

from opswire.adapters.aws import ses_client
from opswire.errors import EmailDeliveryError, EmailRetryableError
from opswire.notifications.render import EmailContent

_RETRYABLE_CODES = frozenset(
    {"Throttling", "ThrottlingException", "ServiceUnavailable", "InternalFailure"}
)


class SesEmailSender:
    def send(self, *, sender: str, recipients: list[str], content: EmailContent) -> str:
        """Send one message to ``recipients``; return the SES message id."""
        try:
            response = ses_client().send_email(
                Source=sender,
                Destination={"ToAddresses": recipients},
                Message={
                    "Subject": {"Data": content.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": content.text, "Charset": "UTF-8"},
                        "Html": {"Data": content.html, "Charset": "UTF-8"},
                    },
                },
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            message = f"SES refused the message: {code}"
            if code in _RETRYABLE_CODES:
                raise EmailRetryableError(message) from exc
            raise EmailDeliveryError(message) from exc
        return response["MessageId"]
