"""Tasks and their helpers: `task`, `task_input_hash`, `exponential_backoff`, `unmapped`."""

from core_blocks.runtime.backoff import exponential_backoff
from core_blocks.runtime.caching import task_input_hash
from core_blocks.runtime.mapping import unmapped
from core_blocks.runtime.task import Task, task

__all__ = ["Task", "exponential_backoff", "task", "task_input_hash", "unmapped"]
