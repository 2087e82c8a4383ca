"""What the core's own plugin (core_blocks.plugin) registers, named by import path.

The registry and secret-backend selection look these names up without importing the plugin,
which imports every core block type.
"""

# "module:Class" of each block type of the core plugin, which imports them from here.
BLOCK_TYPES = (
    "core_blocks.types.secret:Secret",
    "core_blocks.types.string:String",
    "core_blocks.types.json_block:JSON",
    "core_blocks.types.local_file_system:LocalFileSystem",
    "core_blocks.types.webhook:Webhook",
)

# Named by import path, so the registry imports each on its own: a platform without a
# backend's dependency loses that backend only (reported by `blocks doctor`). Selection imports
# a built-in by this path too, without building the registry (core_blocks.secrets.selection).
SECRET_BACKENDS = (
    "keyring = core_blocks.secrets.keyring_backend:KeyringSecretBackend",
    "file = core_blocks.secrets.file_backend:FileSecretBackend",
    "env = core_blocks.secrets.env_backend:EnvSecretBackend",
)


def is_core_block_type(cls: type) -> bool:
    """Whether cls is one of the core plugin's block types."""
    return f"{cls.__module__}:{cls.__qualname__}" in BLOCK_TYPES
