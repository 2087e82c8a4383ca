"""core-blocks: typed, named, secret-safe configuration blocks.

The public names load on first use, so `import core_blocks` (and the CLI's start-up) stays
cheap until a block is actually needed.
"""

from typing import TYPE_CHECKING

from core_blocks.lazy_exports import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {  # public name -> module defining it
    "Block": "core_blocks.block",
    "SecretDict": "core_blocks.fields",
    "Secret": "core_blocks.types.secret",
    "String": "core_blocks.types.string",
    "JSON": "core_blocks.types.json_block",
    "LocalFileSystem": "core_blocks.types.local_file_system",
    "Webhook": "core_blocks.types.webhook",
    "CredentialsBlock": "core_blocks.abstract",
    "ObjectStorageBlock": "core_blocks.abstract",
    "NotificationBlock": "core_blocks.abstract",
    "SecretBlock": "core_blocks.abstract",
    "hookimpl": "core_blocks.hookspecs",
    "BlockNotFound": "core_blocks.errors",
    "BlockTypeNotFound": "core_blocks.errors",
    "BlockValidationError": "core_blocks.errors",
    "SecretBackendError": "core_blocks.errors",
    "ArtifactError": "core_blocks.errors",
    "CoreBlocksError": "core_blocks.errors",
    "NotificationError": "core_blocks.errors",
    "RunTimeoutError": "core_blocks.errors",
    "task": "core_blocks.tasks",
    "Task": "core_blocks.tasks",
    "task_input_hash": "core_blocks.tasks",
    "exponential_backoff": "core_blocks.tasks",
    "unmapped": "core_blocks.tasks",
    "flow": "core_blocks.flows",
    "Flow": "core_blocks.flows",
    "ThreadPoolTaskRunner": "core_blocks.flows",
    "concurrency": "core_blocks.runtime.concurrency",
    "notify": "core_blocks.runtime.notify",
    "get_run_context": "core_blocks.runtime.context",
    "get_run_logger": "core_blocks.runtime.run_logging",
    "create_markdown_artifact": "core_blocks.runtime.artifacts",
    "create_table_artifact": "core_blocks.runtime.artifacts",
    "State": "core_blocks.runtime.states",
    "StateType": "core_blocks.runtime.states",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)


if TYPE_CHECKING:  # one import per name of _EXPORTS, for type checkers (tests/packaging)
    from core_blocks.abstract import (
        CredentialsBlock,
        NotificationBlock,
        ObjectStorageBlock,
        SecretBlock,
    )
    from core_blocks.block import Block
    from core_blocks.errors import (
        ArtifactError,
        BlockNotFound,
        BlockTypeNotFound,
        BlockValidationError,
        CoreBlocksError,
        NotificationError,
        RunTimeoutError,
        SecretBackendError,
    )
    from core_blocks.fields import SecretDict
    from core_blocks.flows import Flow, ThreadPoolTaskRunner, flow
    from core_blocks.hookspecs import hookimpl
    from core_blocks.runtime.artifacts import create_markdown_artifact, create_table_artifact
    from core_blocks.runtime.concurrency import concurrency
    from core_blocks.runtime.context import get_run_context
    from core_blocks.runtime.notify import notify
    from core_blocks.runtime.run_logging import get_run_logger
    from core_blocks.runtime.states import State, StateType
    from core_blocks.tasks import Task, exponential_backoff, task, task_input_hash, unmapped
    from core_blocks.types.json_block import JSON
    from core_blocks.types.local_file_system import LocalFileSystem
    from core_blocks.types.secret import Secret
    from core_blocks.types.string import String
    from core_blocks.types.webhook import Webhook
