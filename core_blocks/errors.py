"""The project's errors: each message says what happened and what to do, never a secret."""


class CoreBlocksError(Exception):
    """Base of every error the project raises on purpose; the CLI prints it as one line."""


class BlockNotFound(CoreBlocksError, LookupError):
    """No saved block of that type and name."""


class BlockTypeNotFound(CoreBlocksError, LookupError):
    """No block type with that slug is registered."""


class BlockValidationError(CoreBlocksError, ValueError):
    """Field values that do not fit the block type; the message names the fields, not values."""

    def __init__(self, message: str, fields: "list[str] | None" = None):
        super().__init__(message)
        self.fields = fields or []


class BlockNameError(CoreBlocksError, ValueError):
    """A block name that breaks the naming rule."""


class BlockExistsError(CoreBlocksError):
    """Saving under a name that is taken, without overwrite."""


class BlockConflictError(CoreBlocksError):
    """The document changed since it was loaded (optimistic concurrency)."""


class UnsavedChildError(CoreBlocksError):
    """Saving a block whose named nested block was changed here but not saved by its name."""


class BlockInUseError(CoreBlocksError):
    """Deleting a block that another block references."""


class SecretBackendError(CoreBlocksError):
    """A secret backend that cannot be used, or cannot read or write a secret."""


class StoreError(CoreBlocksError):
    """The block store cannot be opened or used."""


class HomeFolderError(CoreBlocksError):
    """CORE_BLOCKS_HOME (or the store's folder) is a file or not usable by this user."""


class PluginError(CoreBlocksError):
    """A plugin that failed to load, or two plugins claiming one slug."""


class NotificationError(CoreBlocksError):
    """A notifier that could not deliver its message."""


class StoragePathError(CoreBlocksError, ValueError):
    """An object path that escapes a storage block's base folder."""


class RunTimeoutError(CoreBlocksError, TimeoutError):
    """A task or flow run that went past its timeout_seconds."""


class RunNotFound(CoreBlocksError, LookupError):
    """No recorded run has that name, id or id prefix."""


class RunFilterError(CoreBlocksError, ValueError):
    """A run state or kind that does not exist, or a run id prefix that matches several."""


class ConcurrencyLimitNotFound(CoreBlocksError, LookupError):
    """A concurrency limit name that has not been set."""


class ConcurrencyTimeout(CoreBlocksError, TimeoutError):
    """Slots of a concurrency limit that did not free up in time."""


class SecretResultError(CoreBlocksError, TypeError):
    """A task result that holds a secret, which the result cache never writes."""


class ArtifactError(CoreBlocksError, ValueError):
    """A run artifact that cannot be created: bad key or rows, or no run to attach it to."""
