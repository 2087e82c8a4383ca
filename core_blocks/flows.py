"""Flows: `flow`, and the thread-pool task runner a flow runs submitted tasks on."""

from core_blocks.runtime.flow import Flow, flow
from core_blocks.runtime.task_runners import ThreadPoolTaskRunner

__all__ = ["Flow", "ThreadPoolTaskRunner", "flow"]
