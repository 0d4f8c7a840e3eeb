"""``opswire slack manifest``: the Slack app manifest (JSON) that creates opswire's Slack app in
one step (api.slack.com/apps -> Create New App -> From an app manifest).

    opswire slack manifest --stack NAME [--region R] [--profile P]   request URL of a deployed stack
    opswire slack manifest --api-url URL                             for any base URL, no AWS
    opswire slack manifest --local                                   for ``opswire local up``

The request URL is the stack's ``OpsApiUrl`` output + ``/slack/interactions`` (template.yaml:
route ``POST /slack/interactions`` of OpsHttpApi, served by IncidentAckFunction).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from opswire_cli.target import DeployedStack, deployed_stack, running_local_up

INTERACTIONS_PATH = "/slack/interactions"
STACK_OUTPUT = "OpsApiUrl"
LOCAL_DEFAULT_URL = "http://127.0.0.1:3000"  # ``opswire local up`` default port
_NAME_LIMIT = 35  # Slack: display_information.name has at most 35 characters

# Every Slack Web API method the code calls with the bot token (opswire.channels.slack.SlackBot,
# used by alarms/delivery.py, alarms/acknowledgement.py and deployments/approval.py through the
# SlackApi / SlackApprovals protocols) and the bot scopes it needs:
#   chat.postMessage   chat:write; chat:write.public lets the bot post to public channels it was
#                      never invited to (routes name channels such as "#alerts")
#   chat.update        chat:write (the incident message, updated on acknowledge / resolve)
#   chat.postEphemeral chat:write (the "only you can see this" answer to an approver)
#   users.info         users:read, and users:read.email for profile.email (approvers may be
#                      listed by email in the deploy config)
WEB_API_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write", "chat:write.public"),
    "chat.update": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "users.info": ("users:read", "users:read.email"),
}
# The incoming webhook (secret SlackWebhookSecretName) carries rotation and provisioning notices
# in every mode, and alarms in webhook mode: installing an app with this scope yields a webhook
# URL for a channel the installer picks.
WEBHOOK_SCOPES: tuple[str, ...] = ("incoming-webhook",)


def bot_scopes() -> list[str]:
    """The bot scopes of the manifest, sorted and without duplicates."""
    scopes = {scope for needed in WEB_API_SCOPES.values() for scope in needed}
    return sorted(scopes | set(WEBHOOK_SCOPES))


def interactions_url(api_url: str) -> str:
    return api_url.rstrip("/") + INTERACTIONS_PATH


def app_name(stack: str) -> str:
    name = f"opswire ({stack})"
    if len(name) <= _NAME_LIMIT:
        return name
    return name[: _NAME_LIMIT - 2] + "…)"


def build_manifest(stack: str, api_url: str) -> dict[str, Any]:
    """The manifest for ``stack`` whose HTTP API has the base URL ``api_url``."""
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": app_name(stack),
            "description": "opswire alarms, acknowledgements and deployment approvals",
        },
        "features": {"bot_user": {"display_name": "opswire", "always_online": True}},
        "oauth_config": {"scopes": {"bot": bot_scopes()}},
        "settings": {
            "interactivity": {"is_enabled": True, "request_url": interactions_url(api_url)},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }


# ---- the command ---------------------------------------------------------------------------------
def register(commands: Any) -> None:
    """Add ``slack manifest`` to the ``opswire`` command (``commands``: the subparsers object)."""
    slack = commands.add_parser("slack", help="the Slack app of a stack")
    sub = slack.add_subparsers(title="slack commands")
    manifest = sub.add_parser("manifest", help="print the Slack app manifest (JSON)")
    where = manifest.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="deployed stack: its OpsApiUrl output is the base URL")
    where.add_argument("--api-url", help="base URL of the opswire HTTP API (no AWS)")
    where.add_argument(
        "--local", action="store_true", help=f"the local gateway (default {LOCAL_DEFAULT_URL})"
    )
    manifest.add_argument("--name", default=None, help="stack name in the app name (no AWS)")
    manifest.add_argument("--region", default=None, help="AWS region (deployed)")
    manifest.add_argument("--profile", default=None, help="AWS profile (deployed)")
    manifest.set_defaults(run=run_manifest)


def run_manifest(args: argparse.Namespace) -> int:
    if args.stack:
        api_url = stack_api_url(deployed_stack(args))
        name = args.name or args.stack
    elif args.api_url:
        api_url, name = args.api_url, args.name or "opswire"
    else:
        api_url, name = _local_url(), args.name or "local"
    if not api_url.startswith("https://"):
        print(
            f"opswire: {api_url} is not https; Slack accepts only https request URLs "
            "(put a tunnel in front of the local gateway)",
            file=sys.stderr,
        )
    print(json.dumps(build_manifest(name, api_url), indent=2))
    return 0


def stack_api_url(stack: DeployedStack) -> str:
    return stack.outputs(STACK_OUTPUT)[STACK_OUTPUT]


def _local_url() -> str:
    local_up = running_local_up(None)
    return local_up.url if local_up is not None else LOCAL_DEFAULT_URL
