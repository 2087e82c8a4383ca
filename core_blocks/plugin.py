"""The core's own plugin: its block types and secret backends, through the public hooks."""

from core_blocks.builtins import SECRET_BACKENDS
from core_blocks.hookspecs import hookimpl


@hookimpl
def register_block_types():
    from core_blocks.types.json_block import JSON
    from core_blocks.types.local_file_system import LocalFileSystem
    from core_blocks.types.secret import Secret
    from core_blocks.types.string import String
    from core_blocks.types.webhook import Webhook

    return [Secret, String, JSON, LocalFileSystem, Webhook]


@hookimpl
def register_secret_backends():
    return list(SECRET_BACKENDS)
