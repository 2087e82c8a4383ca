"""Run states: Pending → Running → Completed | Failed | Retrying | TimedOut | Cancelled."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class StateType(str, Enum):
    PENDING = "Pending"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    RETRYING = "Retrying"
    TIMED_OUT = "TimedOut"
    CANCELLED = "Cancelled"
    CRASHED = "Crashed"

    def __str__(self) -> str:
        return self.value


FINAL_STATES = frozenset(
    {StateType.COMPLETED, StateType.FAILED, StateType.TIMED_OUT, StateType.CANCELLED,
     StateType.CRASHED}
)


@dataclass(frozen=True)
class State:
    """One state of a run; a final state also carries the result or the error."""

    type: StateType
    timestamp: float = field(default_factory=time.time)
    message: str = ""
    name: str = ""  # a finer name, e.g. "Cached" for a Completed state served from the cache
    data: Any = field(default=None, repr=False, compare=False)
    error: BaseException | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.type.value)

    @property
    def is_final(self) -> bool:
        return self.type in FINAL_STATES

    def is_completed(self) -> bool:
        return self.type is StateType.COMPLETED

    def is_failed(self) -> bool:
        return self.type in (StateType.FAILED, StateType.TIMED_OUT, StateType.CRASHED)

    def result(self, raise_on_failure: bool = True) -> Any:
        """The run's return value; re-raises its error when it did not complete."""
        if self.error is not None:
            if raise_on_failure:
                raise self.error
            return self.error
        return self.data

    def __str__(self) -> str:
        return self.name if not self.message else f"{self.name}: {self.message}"
