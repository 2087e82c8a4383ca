"""The core's own plugin: its block types and secret backends, through the public hooks."""

from core_blocks.hookspecs import hookimpl


@hookimpl
def register_block_types():
    from core_blocks.types.json_block import JSON
    from core_blocks.types.local_file_system import LocalFileSystem
    from core_blocks.types.secret import Secret
    from core_blocks.types.string import String
    from core_blocks.types.webhook import Webhook

    return [Secret, String, JSON, LocalFileSystem, Webhook]


def core_block_types() -> frozenset[type]:
    """The block types this plugin registers (imported on the first call, as the registry
    imports them: a user class defined first with one of their slugs is judged at its save)."""
    global _core_types
    if _core_types is None:
        from core_blocks.plugin_loading import loading_plugins

        with loading_plugins():
            _core_types = frozenset(register_block_types())
    return _core_types


_core_types: frozenset[type] | None = None


# Named by import path, so the registry imports each on its own: a platform without a
# backend's dependency loses that backend only (reported by `blocks doctor`). Selection imports
# a built-in by this path too, without building the registry (core_blocks.secrets.selection).
SECRET_BACKENDS = (
    "keyring = core_blocks.secrets.keyring_backend:KeyringSecretBackend",
    "file = core_blocks.secrets.file_backend:FileSecretBackend",
    "env = core_blocks.secrets.env_backend:EnvSecretBackend",
)


@hookimpl
def register_secret_backends():
    return list(SECRET_BACKENDS)
