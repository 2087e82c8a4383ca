"""The retry policy the image tasks share: registry hiccups, never wrong input.

Container tasks do not retry: creating or starting twice is not harmless.
"""

from __future__ import annotations

from typing import Any

from core_blocks.tasks import exponential_backoff
from prefect_docker.errors import DockerError


def retry_on_transient_errors(task: Any, run: Any, state: Any) -> bool:
    """True when the failure is a DockerError marked retryable (registry unreachable, 5xx)."""
    return isinstance(state.error, DockerError) and state.error.retryable


RETRYING: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": exponential_backoff(1),
    "retry_jitter_factor": 0.2,
    "retry_condition_fn": retry_on_transient_errors,
}
