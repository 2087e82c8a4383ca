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


@hookimpl
def register_secret_backends():
    # Named by import path, so the registry imports each on its own: a platform without a
    # backend's dependency loses that backend only (reported by `blocks doctor`).
    return [
        "keyring = core_blocks.secrets.keyring_backend:KeyringSecretBackend",
        "file = core_blocks.secrets.file_backend:FileSecretBackend",
        "env = core_blocks.secrets.env_backend:EnvSecretBackend",
    ]
