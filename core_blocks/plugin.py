"""The core's own plugin: its block types and secret backends, through the public hooks."""

from core_blocks.builtins import BLOCK_TYPES, SECRET_BACKENDS
from core_blocks.hookspecs import hookimpl


@hookimpl
def register_block_types():
    from importlib import import_module

    return [getattr(import_module(module), name)
            for module, _, name in (path.partition(":") for path in BLOCK_TYPES)]


@hookimpl
def register_secret_backends():
    return list(SECRET_BACKENDS)
