"""What Task and Flow share: the wrapped function's identity, and their options as attributes."""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from core_blocks.runtime.options import RunOptions


class Wrapped:
    """Keeps the wrapped function's name, docstring, signature and type hints.

    Each option is also an attribute (`task.retries`, `flow.timeout_seconds`), read from and
    written to the frozen `options`, so the engine sees every change.
    """

    kind = "task"
    options_type: type[RunOptions] = RunOptions
    other_keywords: tuple[str, ...] = ()  # taken by the constructor itself, not an option

    def __init__(self, fn: Callable, **options: Any) -> None:
        if not callable(fn):
            raise TypeError(f"@task and @flow decorate functions, not {type(fn).__name__}.")
        unknown = sorted(options.keys() - self.options_type.keywords())
        if unknown:
            takes = sorted(self.options_type.keywords().union(self.other_keywords))
            raise TypeError(f"@{self.kind} got an unknown option {unknown[0]!r}; it takes "
                            f"{', '.join(takes)}.")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.signature = inspect.signature(fn)
        self.is_async = inspect.iscoroutinefunction(fn)
        self.key = f"{fn.__module__}.{fn.__qualname__}"
        self.options = self.options_type(**{**options, "name": options.get("name") or fn.__name__})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for option in fields(cls.options_type):
            setattr(cls, option.name, _option_attribute(option.name))

    def with_options(self, **options: Any) -> Any:
        """A copy of this task or flow with some options changed (checked as the decorator's)."""
        for option in options:
            if option not in self.options_type.keywords():
                raise TypeError(f"with_options() got an unknown option {option!r}.")
        clone = copy.copy(self)
        clone.options = self.options.changed(**options)
        return clone

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        # A task or flow defined as a method binds like a function.
        return self if instance is None else functools.partial(self, instance)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _option_attribute(option: str) -> property:
    def read(self: Wrapped) -> Any:
        return getattr(self.options, option)

    def write(self: Wrapped, value: Any) -> None:
        self.options = self.options.changed(**{option: value})

    return property(read, write, doc=f"The {option} option (see {option!r} in options.py).")
