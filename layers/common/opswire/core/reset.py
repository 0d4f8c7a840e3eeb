"""The one hook a host of several stacks in one process calls between them (the local platform,
tests): forget cached settings, AWS clients and every cache registered with
``opswire.core.aws.register_cache``. Nothing outside the layer needs more of it than this."""

from opswire.core.aws import clear_client_cache
from opswire.core.settings import clear_settings_cache


def forget_stack_caches() -> None:
    clear_settings_cache()
    clear_client_cache()
