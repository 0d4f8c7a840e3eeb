"""Commands that read and change AWS through our wiring (``opswire provision``, ``opswire
secrets``) on a running ``opswire local up``: its moto server becomes this process's AWS.

The wiring's cached clients are built from the environment, so for the command's duration the
environment points boto3 at the local up's endpoint (with moto's dummy credentials) and the
client caches are forgotten before and after."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from opswire_cli.target import LocalUp


@contextlib.contextmanager
def local_up_aws(running: LocalUp) -> Iterator[None]:
    from opswire.core.aws import clear_client_cache
    from opswire_local.template import REGION

    if not running.aws_endpoint:
        raise SystemExit(f"opswire: the local up at {running.url} serves no AWS endpoint")
    overrides = {
        "AWS_ENDPOINT_URL": running.aws_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
    saved = {name: os.environ.get(name) for name in [*overrides, "AWS_SESSION_TOKEN"]}
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.update(overrides)
    clear_client_cache()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        clear_client_cache()
