"""The log shipping workflow's adapters are built here and nowhere else: the ``_bulk``
destination chosen from settings, the S3 dead-letter store, the Lambda clock and CloudWatch Logs
subscription filters. The handlers (``functions/ship_logs``, ``functions/subscribe_log_group``)
and the CLI (``opswire logs subscribe``) call this module; the domain modules do not import
``opswire.log_shipping.aws``.

Destinations, chosen by settings:

* ``OPENSEARCH_ENDPOINT`` set: OpenSearch, with the auth mode of ``OPENSEARCH_AUTH``;
* else nowhere: every send fails with ``OpenSearchNotConfiguredError``, so every document goes
  to the dead-letter bucket and ``opswire logs replay`` can ship it once an endpoint is set.

Destinations are cached per container (the OpenSearch connection is reused, and so is what
the index template install answered).

Imports: what a delivery needs is imported with this module (ShipLogsFunction's cold start, as
when its handler imported it); the HTTP transport (http.client), Secrets Manager, the replay
models and the subscription side are imported on first use.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from opswire.core.aws import register_cache
from opswire.core.settings import LogShippingSettings, LogSubscriberSettings
from opswire.log_shipping.aws.destinations import LogDestination, NoDestination
from opswire.log_shipping.aws.s3_dead_letters import S3DeadLetterStore
from opswire.log_shipping.clock import LambdaClock
from opswire.log_shipping.index_template import index_template_body
from opswire.log_shipping.service import ShippingOptions, ShippingResult, ship_subscription_event

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from opswire.log_shipping.replay import ReplayResult
    from opswire.log_shipping.subscriptions import SubscriptionOutcome


# ---- ShipLogsFunction ---------------------------------------------------------------------------
def ship(
    event: dict[str, Any], context: "LambdaContext", settings: LogShippingSettings
) -> ShippingResult:
    """One subscription delivery (``service.ship_subscription_event``) over the real adapters."""
    shipping = _shipping(settings, context)
    return ship_subscription_event(
        event,
        transport=shipping.destination,
        dead_letters=shipping.store,
        clock=shipping.clock,
        options=shipping.options,
        invocation_id=context.aws_request_id,
    )


def replay(
    request: dict[str, Any] | None, context: "LambdaContext", settings: LogShippingSettings
) -> "ReplayResult":
    """``{"replay": request}``: the dead letters shipped again (``replay.replay_dead_letters``)."""
    from opswire.log_shipping.replay import ReplayRequest, replay_dead_letters

    shipping = _shipping(settings, context)
    return replay_dead_letters(
        ReplayRequest.model_validate(request or {}),
        store=shipping.store,
        transport=shipping.destination,
        clock=shipping.clock,
        options=shipping.options,
        invocation_id=context.aws_request_id,
    )


@dataclass(frozen=True, slots=True)
class _Shipping:
    destination: LogDestination
    clock: LambdaClock
    options: ShippingOptions
    store: S3DeadLetterStore


def _shipping(settings: LogShippingSettings, context: "LambdaContext") -> _Shipping:
    """The collaborators of one invocation; the index template is installed on first use."""
    destination = log_destination(settings)
    if settings.log_install_index_template:
        body = index_template_body(settings.log_index_pattern, settings.log_index_mode)
        destination.ensure_index_template(settings.log_index_template_name, body)
    return _Shipping(
        destination=destination,
        clock=LambdaClock(context),
        options=ShippingOptions.from_settings(settings),
        store=S3DeadLetterStore(settings.log_dlq_bucket),
    )


def log_destination(settings: LogShippingSettings) -> LogDestination:
    if settings.opensearch_endpoint:
        basic: tuple[str, str] | None = None
        if settings.opensearch_auth == "basic":
            from opswire.core.secrets import get_secret_string
            from opswire.log_shipping.aws.opensearch import basic_credentials_from_secret

            secret = get_secret_string(
                settings.opensearch_basic_auth_secret_name,
                max_age=settings.secret_max_age_seconds,
            )
            basic = basic_credentials_from_secret(secret)
        return _opensearch(
            settings.opensearch_endpoint,
            settings.opensearch_auth,
            settings.aws_region,
            basic,
            settings.log_request_timeout_seconds,
            settings.log_gzip_level,
        )
    return NoDestination()


@cache
def _opensearch(
    endpoint: str,
    auth: str,
    region: str,
    basic: tuple[str, str] | None,
    timeout: float,
    gzip_level: int,
) -> LogDestination:
    # Keyed by the credentials too: a rotated basic-auth secret gets a new transport.
    from opswire.log_shipping.aws.opensearch import OpenSearchBulkTransport, request_signer

    sign = request_signer(auth, region, basic_credentials=basic)
    return OpenSearchBulkTransport(endpoint, sign, timeout_seconds=timeout, gzip_level=gzip_level)


def clear_destination_cache() -> None:
    _opensearch.cache_clear()


# Destinations hold OpenSearch clients (and credentials): per stack, like the clients.
register_cache(clear_destination_cache)


# ---- SubscribeLogGroupFunction and ``opswire logs subscribe`` ---------------------------------
def subscribe(
    event: dict[str, Any], settings: LogSubscriberSettings
) -> "SubscriptionOutcome | None":
    """A CloudTrail ``CreateLogGroup`` event -> a subscription filter on the new group when it
    matches (``subscriptions.subscribe_created_group``); None for any other event."""
    from opswire.log_shipping.aws.log_subscriptions import CloudWatchLogsSubscriptions
    from opswire.log_shipping.subscriptions import SubscriptionRules, subscribe_created_group

    rules = SubscriptionRules.from_settings(settings)
    return subscribe_created_group(event, CloudWatchLogsSubscriptions(), rules)


def subscribe_existing(
    *,
    include: Sequence[str],
    exclude: Sequence[str],
    destination_arn: str,
    filter_name: str,
    filter_pattern: str = "",
    dry_run: bool = False,
) -> "list[SubscriptionOutcome]":
    """Every existing log group that matches the rules (``include`` and not ``exclude``
    patterns: a filter ``filter_name`` to ``destination_arn``), subscribed or (``dry_run``) only
    listed (``subscriptions.subscribe_existing_groups``)."""
    from opswire.log_shipping.aws.log_subscriptions import CloudWatchLogsSubscriptions
    from opswire.log_shipping.subscriptions import SubscriptionRules, subscribe_existing_groups

    rules = SubscriptionRules(
        include=tuple(include),
        exclude=tuple(exclude),
        destination_arn=destination_arn,
        filter_name=filter_name,
        filter_pattern=filter_pattern,
    )
    return subscribe_existing_groups(CloudWatchLogsSubscriptions(), rules, dry_run=dry_run)
