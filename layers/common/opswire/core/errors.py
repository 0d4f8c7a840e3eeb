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


# ---- secret rotation (opswire.rotation) -------------------------------------------------------
# Messages name secrets, steps, versions and SDK error codes, never a secret value.


class RotationError(PermanentError):
    """A rotation step cannot go on (Secrets Manager reports the rotation as failed)."""


class RotationNotEnabledError(RotationError):
    """The secret's rotation is switched off (``RotationEnabled`` is false)."""


class RotationTokenError(RotationError):
    """The ClientRequestToken is not a version of the secret, or not the AWSPENDING one."""


class RotationConfigurationError(ConfigurationError, RotationError):
    """The secret's JSON or tags do not describe a rotation opswire can run."""


class RotationTestFailedError(RotationError):
    """testSecret: the pending credentials do not work; AWSCURRENT is left as it was."""


class SecretStoreError(PermanentError):
    """Secrets Manager refused a call (access denied, invalid request, ...)."""


class SecretStoreRetryableError(RetryableError):
    """Secrets Manager throttled or failed transiently."""


class IamError(PermanentError):
    """IAM or STS refused a call made for an access-key rotation."""


class IamRetryableError(RetryableError):
    """IAM or STS throttled, failed transiently, or does not know a new key yet."""


class DatabaseError(PermanentError):
    """The database refused a statement or a login for a reason other than the password."""


class DatabaseAuthenticationError(DatabaseError):
    """The database refused the credentials (wrong password, unknown role)."""


class DatabaseUnavailableError(RetryableError):
    """The database could not be reached (network, TLS handshake, timeout)."""


# ---- log shipping (issue 4) -------------------------------------------------------------------
class LogPayloadError(PermanentError):
    """A CloudWatch Logs subscription payload that is not gzip + base64 JSON of the known shape."""


class OpenSearchRetryableError(RetryableError):
    """OpenSearch answered 429 or 5xx, timed out or could not be reached: retry later."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class OpenSearchRequestError(PermanentError):
    """OpenSearch refused the whole request (4xx other than 413/429): retrying will not help."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BulkRequestTooLargeError(OpenSearchRequestError):
    """HTTP 413: the bulk body is larger than the cluster accepts; split it and send the halves."""


class OpenSearchNotConfiguredError(ConfigurationError):
    """No OpenSearch endpoint and no local sink: documents go to the dead-letter bucket."""


class DeadLetterWriteError(RetryableError):
    """The dead-letter bucket could not be written: the invocation fails so Lambda retries it
    (shipping again is harmless: document ids are deterministic)."""


class LogSubscriptionRetryableError(RetryableError):
    """CloudWatch Logs throttled or failed transiently while putting a subscription filter."""


class LogSubscriptionError(PermanentError):
    """CloudWatch Logs refused a subscription filter (limit of two per group, bad pattern...)."""


class LogGroupNotFoundError(LogSubscriptionError):
    """The log group is gone (deleted between its creation and the subscription)."""


# ---- deployments (issue 6) --------------------------------------------------------------------
class DeploymentError(PermanentError):
    """A deployment step cannot go on: the workflow rolls back (when something was changed)."""


class DeploymentStoreError(PermanentError):
    """DynamoDB refused a deployment-table call."""


class DeploymentStoreRetryableError(RetryableError):
    """DynamoDB throttled, or the record changed between our read and our conditional write."""


class EcsError(DeploymentError):
    """ECS refused a call (unknown cluster/service/container, access denied, bad input)."""


class EcsRetryableError(RetryableError):
    """ECS throttled or failed transiently."""


class BeanstalkError(DeploymentError):
    """Elastic Beanstalk or the source-bundle bucket refused a call (unknown application or
    environment, access denied, bad input, a version whose processing failed)."""


class BeanstalkRetryableError(RetryableError):
    """Elastic Beanstalk or S3 throttled or failed transiently."""


class AlarmsFiringError(DeploymentError):
    """Pre-flight: alarms of the target are in ALARM and no override was given."""


class GitHubRetryableError(RetryableError):
    """The GitHub API answered 429/5xx or could not be reached."""


class GitHubApiError(PermanentError):
    """The GitHub API refused the call (401/403/404/422)."""


# ---- provisioning (issue 7) -------------------------------------------------------------------
class SpecValidationError(PermanentError):
    """A project spec that does not validate; ``problems`` lists every one as ``where: what``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid project spec: " + "; ".join(problems))
        self.problems = problems


class ProvisioningError(PermanentError):
    """AWS refused a provisioning call (access denied, invalid request, name taken...)."""


class ProvisioningRetryableError(RetryableError):
    """AWS throttled or failed transiently during provisioning: the step is retried."""


class ResourceConflictError(ProvisioningError):
    """A resource with the spec's name exists but belongs to something else (another account's
    bucket name, another spec's tag): opswire never takes it over."""


class PostureViolationError(PermanentError):
    """Posture verification found resources that are not as the spec requires."""
