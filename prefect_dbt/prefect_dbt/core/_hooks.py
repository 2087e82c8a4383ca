"""Hooks a user registers on a dbt runner or orchestrator: called when a run starts, when it
ends, and after each node, optionally only for the nodes a dbt selector picks.

A class mixes in DbtHookMixin, calls `self._initialize_dbt_hooks()` in its `__init__`, and
at each event builds a DbtHookContext and calls `self._run_dbt_hooks(event, context, ...)`.
A hook's own error is logged (secret values masked) and never fails the build.

    runner = PrefectDbtRunner()

    @runner.post_model(select="tag:finance")
    def tell_finance(ctx):
        print(ctx.node_id, ctx.status)
"""

from __future__ import annotations

import inspect
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar, overload

from core_blocks.secret_values import mask_known

if TYPE_CHECKING:
    from dbt.contracts.graph.nodes import ManifestNode, SourceDefinition

    from prefect_dbt.core._manifest import DbtNode

DbtHookEvent: TypeAlias = Literal["run_start", "run_end", "post_model"]
DbtHookNode: TypeAlias = "DbtNode | ManifestNode | SourceDefinition"  # the runner has dbt's
DbtHookCallable: TypeAlias = Callable[["DbtHookContext"], Any]
DbtHookDecorator: TypeAlias = Callable[[DbtHookCallable], DbtHookCallable]
F = TypeVar("F", bound=DbtHookCallable)

logger = logging.getLogger(__name__)

_EVENTS: tuple[DbtHookEvent, ...] = ("run_start", "run_end", "post_model")


@dataclass(frozen=True)
class DbtHookContext:
    """What a hook is told: the event, the dbt command and its arguments, the object the
    hook was registered on (`owner`), and, as the event has them, the node with its status
    and result (post_model), or the run's status, results and node ids (run_end)."""

    event: DbtHookEvent
    command: str
    owner: Any
    args: tuple[str, ...] = ()
    node: DbtHookNode | None = None
    status: str | None = None
    result: dict[str, Any] | None = None
    run_results: dict[str, Any] | None = None
    error: Any = None
    node_ids: tuple[str, ...] = ()

    @property
    def node_id(self) -> str | None:
        """The node's unique_id; None for run_start and run_end."""
        return getattr(self.node, "unique_id", None)


@dataclass(frozen=True)
class _RegisteredDbtHook:
    callback: DbtHookCallable
    select: str | None = None  # a dbt selector: the hook runs only for the nodes it picks


class DbtHookMixin:
    """`on_run_start`, `on_run_end` and `post_model` decorators, and running the hooks.

    Hooks are registered before the run starts. In PER_NODE mode, post_model hooks are
    called from the threads running the nodes, possibly at once: a hook that keeps state
    guards it."""

    _dbt_hooks: dict[DbtHookEvent, list[_RegisteredDbtHook]]

    def _initialize_dbt_hooks(self) -> None:
        """Start with no hooks; call it from `__init__`."""
        self._dbt_hooks = {event: [] for event in _EVENTS}

    def _register_dbt_hook(self, event: DbtHookEvent, fn: DbtHookCallable | None = None, *,
                           select: str | None = None
                           ) -> DbtHookCallable | DbtHookDecorator:
        method = "on_" + event if event != "post_model" else event
        if isinstance(fn, str):
            raise TypeError(f"{method} takes a dbt selector as a keyword argument: "
                            f"@{method}(select={fn!r})")
        if fn is not None and not callable(fn):
            raise TypeError(f"{method} registers a function taking a DbtHookContext; got "
                            f"{type(fn).__name__}")
        if select is not None and (not isinstance(select, str) or not select.strip()):
            raise ValueError(f"{method}(select=...) takes a dbt selector such as "
                             f"'tag:finance'; got {select!r}")

        def decorator(callback: DbtHookCallable) -> DbtHookCallable:
            self._dbt_hooks[event].append(_RegisteredDbtHook(callback, select))
            return callback

        return decorator if fn is None else decorator(fn)

    @overload
    def on_run_start(self, fn: F) -> F: ...

    @overload
    def on_run_start(self) -> DbtHookDecorator: ...

    def on_run_start(self, fn: DbtHookCallable | None = None
                     ) -> DbtHookCallable | DbtHookDecorator:
        """Register a hook called before dbt runs (`@x.on_run_start` or `@x.on_run_start()`).
        It takes no selector: nothing has run yet to select from."""
        return self._register_dbt_hook("run_start", fn)

    @overload
    def on_run_end(self, fn: F) -> F: ...

    @overload
    def on_run_end(self, *, select: str | None = ...) -> DbtHookDecorator: ...

    def on_run_end(self, fn: DbtHookCallable | None = None, *, select: str | None = None
                   ) -> DbtHookCallable | DbtHookDecorator:
        """Register a hook called after the run, whatever its outcome; with `select`, only
        when the run included a node the selector picks."""
        return self._register_dbt_hook("run_end", fn, select=select)

    @overload
    def post_model(self, fn: F) -> F: ...

    @overload
    def post_model(self, *, select: str | None = ...) -> DbtHookDecorator: ...

    def post_model(self, fn: DbtHookCallable | None = None, *, select: str | None = None
                   ) -> DbtHookCallable | DbtHookDecorator:
        """Register a hook called after each node finishes; with `select`, only for the
        nodes the selector picks (`@x.post_model(select="tag:finance")`)."""
        return self._register_dbt_hook("post_model", fn, select=select)

    def _has_dbt_hooks(self) -> bool:
        return any(self._dbt_hooks.values())

    def _build_dbt_hook_selection_cache(self, *, project_dir: Path, profiles_dir: Path,
                                        target_path: Path | None = None,
                                        target: str | None = None) -> dict[str, set[str]]:
        """Each hook selector -> the unique_ids it picks, resolved once per run with `dbt ls`.
        A selector dbt cannot resolve picks nothing, with a warning: its hooks are skipped."""
        from prefect_dbt.core import _manifest  # read at call time: tests replace it there

        cache: dict[str, set[str]] = {}
        for hooks in self._dbt_hooks.values():
            for hook in hooks:
                if hook.select is None or hook.select in cache:
                    continue
                try:
                    cache[hook.select] = set(_manifest.resolve_selection(
                        project_dir=project_dir, profiles_dir=profiles_dir,
                        select=hook.select, target_path=target_path, target=target))
                except Exception as exc:
                    logger.warning("Failed to resolve dbt hook selector %r; skipping "
                                   "matching hooks.\n%s", hook.select, _masked_error(exc))
                    cache[hook.select] = set()
        return cache

    def _dbt_hook_matches(self, hook: _RegisteredDbtHook, context: DbtHookContext,
                          selection_cache: dict[str, set[str]]) -> bool:
        """Whether hook runs for context: always without a selector; else when its node, or
        one of its node_ids (run_end), is selected, or with neither, when any node is."""
        if hook.select is None:
            return True
        selected = selection_cache.get(hook.select, set())
        if context.node_id is not None:
            return context.node_id in selected
        if context.node_ids:
            return not selected.isdisjoint(context.node_ids)
        return bool(selected)

    def _run_dbt_hooks(self, event: DbtHookEvent, context: DbtHookContext, *,
                       selection_cache: dict[str, set[str]] | None = None) -> None:
        """Call event's matching hooks in the order registered; an async one runs to its
        end. A failing hook is logged as a warning and the next one still runs."""
        cache = selection_cache or {}
        for hook in self._dbt_hooks[event]:
            if not self._dbt_hook_matches(hook, context, cache):
                continue
            try:
                outcome = hook.callback(context)
                if inspect.isawaitable(outcome):
                    _run_to_end(outcome)
            except Exception as exc:
                name = getattr(hook.callback, "__name__", None) or repr(hook.callback)
                logger.warning("dbt hook %s failed during %s.\n%s", name, event,
                               _masked_error(exc, with_traceback=True))


def _run_to_end(awaitable: Any) -> Any:
    """Await an async hook's result from sync code, in a thread of its own if this one is
    already running an event loop (hooks are called from sync code either way)."""
    from core_blocks.runtime.hooks import _run_coroutine

    async def wait() -> Any:
        return await awaitable

    return _run_coroutine(wait())


def _masked_error(exc: BaseException, with_traceback: bool = False) -> str:
    """The error (and its traceback) as text, with every secret value this process knows
    masked: an error may quote a password from profiles.yml."""
    lines = (traceback.format_exception(type(exc), exc, exc.__traceback__) if with_traceback
             else traceback.format_exception_only(type(exc), exc))
    return mask_known("".join(lines).rstrip())
