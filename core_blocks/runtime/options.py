"""What tasks and flows share: checking options, hooks, the wrapped function's identity."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any


def as_hook_list(hooks: Callable | Iterable[Callable] | None, option: str) -> list[Callable]:
    if hooks is None:
        return []
    hooks = [hooks] if callable(hooks) else list(hooks)
    for hook in hooks:
        if not callable(hook):
            raise TypeError(f"{option} takes callables hook(obj, run, state), not {hook!r}.")
    return hooks


def check_common(fn: Callable, retries: int, timeout_seconds: float | None) -> None:
    if not callable(fn):
        raise TypeError(f"@task and @flow decorate functions, not {type(fn).__name__}.")
    if not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a whole number ≥ 0, not {retries!r}.")
    if timeout_seconds is not None and timeout_seconds <= 0:
        raise ValueError(f"timeout_seconds must be > 0, not {timeout_seconds!r}.")


def check_retry_delay(spec: Any) -> None:
    if callable(spec) or spec is None:
        return
    values = spec if isinstance(spec, (list, tuple)) else [spec]
    for value in values:
        if not isinstance(value, (int, float)) or value < 0:
            raise ValueError(
                "retry_delay_seconds takes seconds ≥ 0, a list of them, or a callable "
                f"attempt -> seconds (e.g. exponential_backoff(2)), not {spec!r}."
            )


class Wrapped:
    """Keeps the wrapped function's name, docstring, signature and type hints."""

    kind = "task"

    def _configure(self, fn: Callable, name: str | None, retries: int, retry_delay_seconds: Any,
                   timeout_seconds: float | None, log_prints: bool | None,
                   on_completion: Any, on_failure: Any) -> None:
        """Check and set what tasks and flows share."""
        check_common(fn, retries, timeout_seconds)
        check_retry_delay(retry_delay_seconds)
        self._wrap(fn, name)
        self.retries = retries
        self.retry_delay_seconds = retry_delay_seconds
        self.timeout_seconds = timeout_seconds
        self.log_prints = log_prints
        self.on_completion = as_hook_list(on_completion, "on_completion")
        self.on_failure = as_hook_list(on_failure, "on_failure")

    def _wrap(self, fn: Callable, name: str | None) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = name or fn.__name__
        self.signature = inspect.signature(fn)
        self.is_async = inspect.iscoroutinefunction(fn)
        self.key = f"{fn.__module__}.{fn.__qualname__}"

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        # A task or flow defined as a method binds like a function.
        return self if instance is None else functools.partial(self, instance)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
