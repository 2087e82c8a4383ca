"""Secret backends: where block secrets live (keyring, encrypted file, environment, plugins)."""

from core_blocks.secrets.base import SecretBackend
from core_blocks.secrets.selection import backend_for_read, backend_for_write, backend_named

__all__ = ["SecretBackend", "backend_for_read", "backend_for_write", "backend_named"]
