"""The options of a task or flow: one frozen object, checked once, that the engine reads.

`RunOptions` holds every option the shared attempt loop and hook calls read, as plain fields.
Three belong to one kind only, as in Prefect: jitter and a retry condition (tasks), crash
hooks (flows). RunOptions declares them with their "off" value and `init=False`; only
`TaskOptions` or `FlowOptions` makes them keywords, so the other kind refuses them. The
subclasses also add what only their own path reads: caching and tags, the task runner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from typing import Any

from core_blocks.runtime.caching import check_result_storage
from core_blocks.runtime.states import State, StateType

Hooks = tuple[Callable, ...]


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """What tasks and flows share: name, retries and their delays, timeout, prints, hooks."""

    name: str
    retries: int = 0
    retry_delay_seconds: float | list[float] | Callable[[int], float] = 0
    timeout_seconds: float | None = None
    log_prints: bool | None = None  # None: as the enclosing run does
    on_completion: Hooks = ()
    on_failure: Hooks = ()
    # Read by the shared loop; settable only on tasks (jitter, condition) or flows (on_crashed).
    retry_jitter_factor: float | None = field(default=None, init=False)
    retry_condition_fn: Callable | None = field(default=None, init=False)
    on_crashed: Hooks = field(default=(), init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.retries, int) or self.retries < 0:
            raise ValueError(f"retries must be a whole number ≥ 0, not {self.retries!r}.")
        if self.timeout_seconds is not None and self.timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be > 0, not {self.timeout_seconds!r}.")
        _check_retry_delay(self.retry_delay_seconds)
        if self.retry_jitter_factor is not None and self.retry_jitter_factor < 0:
            raise ValueError(f"retry_jitter_factor must be ≥ 0, not {self.retry_jitter_factor!r}.")
        for option in ("on_completion", "on_failure", "on_crashed"):
            object.__setattr__(self, option, as_hooks(getattr(self, option), option))

    @classmethod
    def keywords(cls) -> frozenset[str]:
        """The options this kind of run takes as keywords."""
        return frozenset(f.name for f in fields(cls) if f.init)

    def changed(self, **options: Any) -> RunOptions:
        """A checked copy with some options changed."""
        return replace(self, **options)

    def hooks_for(self, state: State) -> Hooks:
        """The hooks a final state calls."""
        if state.type is StateType.COMPLETED:
            return self.on_completion
        if state.type in (StateType.FAILED, StateType.TIMED_OUT):
            return self.on_failure
        if state.type is StateType.CRASHED:
            return self.on_crashed
        return ()


@dataclass(frozen=True, kw_only=True)
class TaskOptions(RunOptions):
    """A task's options: the shared ones, jitter, a retry condition, caching and tags."""

    retry_jitter_factor: float | None = None  # each delay d becomes d to d * (1 + factor)
    retry_condition_fn: Callable | None = None  # (task, run, failed_state) -> retry or not
    cache_key_fn: Callable | None = None  # (TaskRunContext, arguments) -> key or None
    cache_expiration: timedelta | None = None
    refresh_cache: bool = False  # run anyway and store the new result
    result_storage: Any = None  # an ObjectStorageBlock or "type-slug/name"; None: local
    tags: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.cache_expiration is not None and not isinstance(self.cache_expiration, timedelta):
            raise TypeError("cache_expiration takes a datetime.timedelta, e.g. timedelta(hours=1).")
        check_result_storage(self.result_storage)
        object.__setattr__(self, "tags", frozenset(self.tags))


@dataclass(frozen=True, kw_only=True)
class FlowOptions(RunOptions):
    """A flow's options: the shared ones, its task runner and crash hooks."""

    task_runner: Any = None  # a ThreadPoolTaskRunner; each run uses a duplicate of it
    on_crashed: Hooks = ()  # called on KeyboardInterrupt or SystemExit inside the flow


def as_hooks(hooks: Callable | Iterable[Callable] | None, option: str) -> Hooks:
    """One hook, several or None, as a tuple of callables."""
    if hooks is None:
        return ()
    hooks = (hooks,) if callable(hooks) else tuple(hooks)
    for hook in hooks:
        if not callable(hook):
            raise TypeError(f"{option} takes callables hook(obj, run, state), not {hook!r}.")
    return hooks


def _check_retry_delay(spec: Any) -> None:
    if callable(spec) or spec is None:
        return
    values = spec if isinstance(spec, (list, tuple)) else [spec]
    for value in values:
        if not isinstance(value, (int, float)) or value < 0:
            raise ValueError(
                "retry_delay_seconds takes seconds ≥ 0, a list of them, or a callable "
                f"attempt -> seconds (e.g. exponential_backoff(2)), not {spec!r}."
            )
