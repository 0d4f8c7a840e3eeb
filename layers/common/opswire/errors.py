"""The opswire exception tree.

Class names are part of the contract with the state machines: a Lambda task that raises
``SlackRetryableError`` fails with that error name, and the ASL ``Retry``/``Catch`` blocks name it.
Retryable versus permanent is a class distinction, never a flag.
"""


class OpswireError(Exception):
    """Base of every error opswire raises on purpose."""


class RetryableError(OpswireError):
    """A transient failure: the workflow retries the step."""


class PermanentError(OpswireError):
    """A failure that a retry cannot fix: the workflow catches and reports it."""


class ConfigurationError(PermanentError):
    """The stack or a secret is configured wrongly (missing secret, bad URL, ...)."""


class AlarmParseError(PermanentError):
    """An alarm payload that matches none of the known CloudWatch alarm shapes."""


class SlackRetryableError(RetryableError):
    """Slack answered 429 or 5xx, or could not be reached."""


class SlackDeliveryError(PermanentError):
    """Slack refused the message (4xx other than 429): retrying will not help."""


class EmailRetryableError(RetryableError):
    """SES throttled or failed transiently."""


class EmailDeliveryError(PermanentError):
    """SES refused the message (unverified identity, rejected, bad address)."""


class TaskInputError(PermanentError):
    """A task received input that does not match its contract (a workflow wiring bug)."""


class IncidentConflictError(RetryableError):
    """Another delivery changed the incident between our read and our conditional write."""


class IncidentNotFoundError(PermanentError):
    """The incident (or that episode of it) is not stored."""
