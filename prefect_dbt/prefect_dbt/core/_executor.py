"""Running chosen dbt nodes in this process: DbtCoreExecutor runs one node, or a set of
independent nodes (a wave, as one `dbt build`), with a project's settings and reports an
ExecutionResult: success, each node's status and dbt's log lines, node by node.

Imports dbt: only code about to run dbt imports this module (`prefect_dbt.core` loads it
lazily). dbt's programmatic runner is the module global `dbtRunner`, looked up at each call.
"""

from __future__ import annotations

import atexit
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from dbt.cli.main import dbtRunner

from prefect_dbt.utilities import kwargs_to_args

if TYPE_CHECKING:
    from prefect_dbt.core._manifest import DbtNode
    from prefect_dbt.core.settings import PrefectDbtSettings

logger = logging.getLogger(__name__)

# dbt's event level -> (rank, the log level it is reported at); "none" keeps nothing.
_EVENT_LEVELS = {"debug": (0, "debug"), "test": (1, "debug"), "info": (2, "info"),
                 "warn": (3, "warning"), "error": (4, "error")}
_KEEP_NOTHING = 5
# dbt's global flags this package sets unless the caller's extra arguments set them.
_DEFAULT_FLAGS = (("send-anonymous-usage-stats", "--no-send-anonymous-usage-stats"),
                  ("use-colors", "--no-use-colors"))


def _level_name(level: Any) -> str:
    """dbt's EventLevel or our settings' level string, as its lower-case value."""
    return str(getattr(level, "value", level)).lower()


@dataclass
class ExecutionResult:
    """What running some nodes did.

    `success`; `node_ids`: the nodes asked for, then any others dbt ran with them (tests
    of a built model); `error`: why it failed, None on success; `artifacts`: unique_id ->
    {status, message, execution_time} from dbt's results; `log_messages`: unique_id ("" for
    lines of no node) -> [(level, message)] of dbt's log lines at or above the settings'
    log level. Both are None when dbt gave none.
    """

    success: bool
    node_ids: list[str] = field(default_factory=list)
    error: Exception | None = None
    artifacts: dict[str, Any] | None = None
    log_messages: dict[str, list[tuple[str, str]]] | None = None


@runtime_checkable
class DbtExecutor(Protocol):
    """Something that runs dbt nodes: in this process (DbtCoreExecutor) or elsewhere."""

    def execute_node(self, node: DbtNode, command: str, full_refresh: bool = False,
                     target: str | None = None,
                     extra_cli_args: list[str] | None = None) -> ExecutionResult: ...

    def execute_wave(self, nodes: list[DbtNode], full_refresh: bool = False,
                     indirect_selection: str | None = None, target: str | None = None,
                     extra_cli_args: list[str] | None = None) -> ExecutionResult: ...

    def resolve_manifest_path(self) -> Path: ...


class _PoolState(Enum):
    INACTIVE = "inactive"      # dbt makes and drops its adapter at each invocation
    FIRST_CALL = "first_call"  # the next invocation makes the adapter and keeps it
    POOLED = "pooled"          # invocations reuse the kept adapter and its connections


@contextmanager
def _keep_new_adapter(reset: Callable[[], None]) -> Iterator[None]:
    """dbt's adapter_management without its teardown: fresh adapters, left open."""
    reset()
    yield


@contextmanager
def _keep_adapter() -> Iterator[None]:
    """dbt's adapter_management once an adapter is kept: nothing to make or drop."""
    yield


class _AdapterPool:
    """Keeps dbt's adapter, and its open database connections, from one invocation to the
    next in this process, for a worker that runs many nodes one after another.

    dbt makes an adapter at each invocation and closes its connections at the end of each
    node and of each invocation; new worker threads then find no connection under their
    thread's key. While active, the pool replaces dbt's `adapter_management` (keep what the
    first invocation made), makes `BaseAdapter.cleanup_connections` do nothing, and lets a
    thread take over an open connection a finished thread left. A failed invocation
    `revert()`s all of it; the process's exit closes what is left. Where dbt's internals
    are not there, the pool is unavailable and does nothing.
    """

    def __init__(self) -> None:
        self._state = _PoolState.INACTIVE
        self._runner: Any = None
        self._cleanup_registered = False
        self._original_adapter_management: Any = None
        self._original_base_cleanup: Any = None
        self._original_get_if_exists: Any = None
        try:
            from dbt.adapters.factory import (
                adapter_management,
                cleanup_connections,
                reset_adapters,
            )
        except ImportError:
            self._available = False
            return
        self._original_adapter_management = adapter_management
        self._reset_adapters = reset_adapters
        self._cleanup_connections = cleanup_connections
        self._available = True

    @property
    def available(self) -> bool:
        return self._available

    def activate(self) -> None:
        """Start keeping the adapter: the next invocation makes it. Idempotent."""
        if not self._available or self._state is not _PoolState.INACTIVE:
            return
        self._state = _PoolState.FIRST_CALL
        self._set_adapter_management(partial(_keep_new_adapter, self._reset_adapters))
        self._patch_connections()
        if not self._cleanup_registered:
            atexit.register(self._cleanup)
            self._cleanup_registered = True

    def get_runner(self, callbacks: list) -> tuple[Any, bool]:
        """(a dbtRunner with `callbacks`, whether it is the pooled one)."""
        if self._state is _PoolState.POOLED and self._runner is not None:
            self._runner.callbacks = callbacks
            return self._runner, True
        self._runner = dbtRunner(callbacks=callbacks)
        return self._runner, False

    def on_success(self) -> None:
        """After the first invocation succeeds, later ones reuse its adapter."""
        if self._state is _PoolState.FIRST_CALL:
            self._state = _PoolState.POOLED
            self._set_adapter_management(_keep_adapter)

    def revert(self) -> None:
        """Back to dbt's own behaviour, dropping the kept adapter. Safe at any time."""
        self._state = _PoolState.INACTIVE
        self._runner = None
        self._restore()
        reset = getattr(self, "_reset_adapters", None)
        if reset is not None:
            try:
                reset()
            except Exception:  # a half-closed adapter: nothing more to release
                logger.debug("dbt's reset_adapters failed while reverting", exc_info=True)
        from prefect_dbt.runner import _release_duckdb

        _release_duckdb()  # dbt-duckdb holds its file beyond the adapter

    def _cleanup(self) -> None:
        """At exit: undo the patches and close the kept connections."""
        self._restore()
        cleanup = getattr(self, "_cleanup_connections", None)
        if cleanup is not None:
            try:
                cleanup()
            except Exception:
                logger.debug("dbt's cleanup_connections failed at exit", exc_info=True)

    def _set_adapter_management(self, replacement: Any) -> None:
        # dbt.cli.requires imported the name itself, so both modules need it.
        import dbt.adapters.factory as factory
        import dbt.cli.requires as requires

        factory.adapter_management = replacement
        requires.adapter_management = replacement

    def _patch_connections(self) -> None:
        from dbt.adapters.base.connections import BaseConnectionManager
        from dbt.adapters.base.impl import BaseAdapter

        if self._original_base_cleanup is None:
            self._original_base_cleanup = BaseAdapter.cleanup_connections
            BaseAdapter.cleanup_connections = lambda adapter: None
        if self._original_get_if_exists is None:
            self._original_get_if_exists = BaseConnectionManager.get_if_exists
            BaseConnectionManager.get_if_exists = _get_or_take_over

    def _restore(self) -> None:
        if self._original_adapter_management is not None and self._available:
            self._set_adapter_management(self._original_adapter_management)
        if self._original_base_cleanup is not None:
            from dbt.adapters.base.impl import BaseAdapter

            BaseAdapter.cleanup_connections = self._original_base_cleanup
            self._original_base_cleanup = None
        if self._original_get_if_exists is not None:
            from dbt.adapters.base.connections import BaseConnectionManager

            BaseConnectionManager.get_if_exists = self._original_get_if_exists
            self._original_get_if_exists = None


def _get_or_take_over(manager: Any) -> Any:
    """BaseConnectionManager.get_if_exists while pooled: this thread's connection, else an
    open one a finished thread left, moved to this thread; else None."""
    key = manager.get_thread_identifier()
    with manager.lock:
        connections = manager.thread_connections
        if key in connections:
            return connections[key]
        for other, connection in list(connections.items()):
            if connection.state == "open":
                del connections[other]
                connections[key] = connection
                return connection
    return None


_adapter_pool = _AdapterPool()  # one per process: dbt's adapter registry is process-wide


class DbtCoreExecutor:
    """Runs nodes with dbt's programmatic runner in this process, one invocation at a time.

    `threads`, `state_path` (`--state`), `defer`, `defer_state_path` (`--defer-state`) and
    `favor_state` become dbt's flags on every invocation; `run_deps` runs `dbt deps` before
    the `dbt parse` that makes a missing manifest; `pool_adapters` keeps dbt's adapter and
    connections between invocations (for a worker running many nodes).

        executor = DbtCoreExecutor(PrefectDbtSettings(project_dir="shop"))
        executor.execute_node(node, "run").success
    """

    _FULL_REFRESH_COMMANDS = frozenset({"run", "build", "seed"})

    def __init__(self, settings: PrefectDbtSettings, threads: int | None = None,
                 state_path: Path | None = None, defer: bool = False,
                 defer_state_path: Path | None = None, favor_state: bool = False,
                 run_deps: bool = True, pool_adapters: bool = False) -> None:
        settings.validate_for_orchestrator()
        self._settings = settings
        self._threads = threads
        self._state_path = state_path
        self._defer = defer
        self._defer_state_path = defer_state_path
        self._favor_state = favor_state
        self._run_deps = run_deps
        self._pool_adapters = pool_adapters
        self._profiles_dir_override: str | None = None

    @contextmanager
    def use_resolved_profiles_dir(self, profiles_dir: str) -> Iterator[None]:
        """Within the block, use this already resolved profiles folder instead of resolving
        profiles.yml again at each invocation."""
        previous, self._profiles_dir_override = self._profiles_dir_override, profiles_dir
        try:
            yield
        finally:
            self._profiles_dir_override = previous

    def execute_node(self, node: DbtNode, command: str, full_refresh: bool = False,
                     target: str | None = None,
                     extra_cli_args: list[str] | None = None) -> ExecutionResult:
        """Run `dbt <command>` (run, seed, snapshot, test) selecting `node` alone.
        `full_refresh` applies to run, build and seed only."""
        return self._invoke(command, [node.unique_id], [node.dbt_selector],
                            full_refresh=full_refresh, target=target,
                            extra_cli_args=extra_cli_args)

    def execute_wave(self, nodes: list[DbtNode], full_refresh: bool = False,
                     indirect_selection: str | None = None, target: str | None = None,
                     extra_cli_args: list[str] | None = None) -> ExecutionResult:
        """Run `nodes` in one `dbt build`; `indirect_selection="empty"` keeps dbt from
        adding the tests of the selected models."""
        if not nodes:
            raise ValueError("Cannot execute an empty wave: pass at least one DbtNode.")
        return self._invoke("build", [n.unique_id for n in nodes],
                            [n.dbt_selector for n in nodes], full_refresh=full_refresh,
                            indirect_selection=indirect_selection, target=target,
                            extra_cli_args=extra_cli_args)

    def resolve_manifest_path(self) -> Path:
        """The absolute path of manifest.json under the project's target folder; when it is
        missing, runs `dbt deps` (if run_deps) and `dbt parse` to make it, raising
        RuntimeError if they fail."""
        settings = self._settings
        path = (Path(settings.project_dir) / settings.target_path / "manifest.json").resolve()
        if not path.exists():
            if self._run_deps:
                self.run_deps()
            self._run_parse(path)
        return path

    def run_deps(self) -> None:
        """Install the packages of packages.yml with `dbt deps`; RuntimeError if it fails."""
        logger.info("Running 'dbt deps' in %s to install the project's packages.",
                    self._settings.project_dir)
        result = self._run_plain("deps")
        if not result.success:
            raise RuntimeError(
                f"Failed to install packages via 'dbt deps': {result.exception}. Check "
                f"packages.yml in {self._settings.project_dir} and the network, or pass "
                "run_deps=False when the packages are installed already.")

    def _run_parse(self, expected_path: Path) -> None:
        logger.info("Manifest not found at %s; running 'dbt parse' to generate it.",
                    expected_path)
        result = self._run_plain("parse", "--target-path", str(self._settings.target_path))
        if not result.success:
            raise RuntimeError(
                f"Failed to generate manifest via 'dbt parse': {result.exception}. Fix the "
                "project so `dbt parse` succeeds, or point target_path at a folder holding "
                "manifest.json.")
        if not expected_path.exists():
            raise RuntimeError(
                f"'dbt parse' succeeded but manifest not found at {expected_path}. Check "
                "that target_path is relative to project_dir and not redirected elsewhere.")

    def _profiles_dir(self) -> Any:
        """A context giving the profiles folder: the pinned one, else a resolved one."""
        if self._profiles_dir_override is not None:
            return nullcontext(self._profiles_dir_override)
        return self._settings.resolve_profiles_yml()

    def _run_plain(self, command: str, *flags: str) -> Any:
        """`dbt <command>` with the project and profiles, dbt's log kept out of ours."""
        with self._profiles_dir() as profiles_dir:
            args = [command, "--project-dir", str(self._settings.project_dir),
                    "--profiles-dir", str(profiles_dir), *flags,
                    "--log-level", "none",
                    "--log-level-file", _level_name(self._settings.log_level),
                    *(flag for _, flag in _DEFAULT_FLAGS)]
            return self._locked(lambda: dbtRunner().invoke(args))

    def _invoke(self, command: str, node_ids: list[str], selectors: list[str],
                full_refresh: bool = False, indirect_selection: str | None = None,
                target: str | None = None,
                extra_cli_args: list[str] | None = None) -> ExecutionResult:
        """Run `dbt <command> --select <selectors>`; every error becomes the result's."""
        logs: dict[str, list[tuple[str, str]]] = {}
        try:
            with self._profiles_dir() as profiles_dir:
                args = self._args(command, selectors, full_refresh, indirect_selection,
                                  target, str(profiles_dir), extra_cli_args or [])
                raw = self._locked(lambda: self._run(args, self._log_collector(logs)))
        except Exception as exc:  # a profile that cannot be resolved, dbt not starting
            if self._pool_adapters:
                _adapter_pool.revert()
            return _masked(ExecutionResult(False, list(node_ids), exc, None, logs or None))
        artifacts = _artifacts(raw)
        ids = list(dict.fromkeys([*node_ids, *(artifacts or ())]))
        error = None if raw.success else raw.exception or _failure(command, raw)
        return _masked(ExecutionResult(bool(raw.success), ids, error, artifacts, logs or None))

    def _args(self, command: str, selectors: list[str], full_refresh: bool,
              indirect_selection: str | None, target: str | None, profiles_dir: str,
              extra: list[str]) -> list[str]:
        options: dict[str, Any] = {
            "project_dir": str(self._settings.project_dir),
            "target_path": str(self._settings.target_path),
            "log_level": "none",  # dbt's lines reach the result through the callback
            "log_level_file": _level_name(self._settings.log_level),
            "select": selectors,
            "indirect_selection": indirect_selection,
            "target": target,
            "threads": self._threads,
            "full_refresh": (full_refresh and command in self._FULL_REFRESH_COMMANDS) or None,
            "state": None if self._state_path is None else str(self._state_path),
            "defer": self._defer or None,
            "defer_state": (None if self._defer_state_path is None
                            else str(self._defer_state_path)),
            "favor_state": self._favor_state or None,
            "profiles_dir": profiles_dir,
        }
        args = kwargs_to_args(options, [command])
        args += [flag for name, flag in _DEFAULT_FLAGS
                 if not any(a.endswith(name) for a in extra)]
        return args + list(extra)

    def _run(self, args: list[str], callback: Callable[[Any], None]) -> Any:
        if not self._pool_adapters:
            return dbtRunner(callbacks=[callback]).invoke(args)
        _adapter_pool.activate()
        runner, _ = _adapter_pool.get_runner(callbacks=[callback])
        raw = runner.invoke(args)
        if raw.success:
            _adapter_pool.on_success()
        else:
            _adapter_pool.revert()
        return raw

    def _locked(self, call: Callable[[], Any]) -> Any:
        """One dbt invocation at a time in this process (dbt's flags and adapters are
        process-wide); DuckDB's file is let go afterwards unless the pool keeps it open."""
        from prefect_dbt.runner import dbt_session

        with dbt_session(keep_open=lambda: _adapter_pool._state is not _PoolState.INACTIVE):
            return call()

    def _log_collector(self, logs: dict[str, list[tuple[str, str]]]
                       ) -> Callable[[Any], None]:
        """A dbt event callback adding each line at or above the settings' log level to
        `logs`, under its node's unique_id ("" for none)."""
        name = _level_name(self._settings.log_level)
        floor = (_KEEP_NOTHING if name == "none"
                 else _EVENT_LEVELS.get(name, _EVENT_LEVELS["info"])[0])

        def collect(event: Any) -> None:
            try:
                rank, level = _EVENT_LEVELS.get(_level_name(event.info.level), (-1, ""))
                message = event.info.msg
                if rank < floor or not message or not str(message).strip():
                    return
                try:
                    node_id = event.data.node_info.unique_id or ""
                except Exception:  # an event of no node
                    node_id = ""
                logs.setdefault(node_id, []).append((level, str(message)))
            except Exception:  # a log line is never worth failing the run for
                logger.debug("Could not read a dbt event", exc_info=True)

        return collect


def _artifacts(raw: Any) -> dict[str, Any] | None:
    """unique_id -> {status, message, execution_time} of each node dbt reported."""
    results = getattr(getattr(raw, "result", None), "results", None)
    if not results:
        return None
    artifacts: dict[str, Any] = {}
    for result in results:
        unique_id = getattr(result, "unique_id", None)
        if unique_id is None:
            unique_id = getattr(getattr(result, "node", None), "unique_id", None)
        if unique_id is None:
            continue
        status = getattr(result, "status", "")
        artifacts[unique_id] = {"status": str(getattr(status, "value", status)),
                                "message": getattr(result, "message", ""),
                                "execution_time": getattr(result, "execution_time", 0.0)}
    return artifacts or None


def _failure(command: str, raw: Any) -> Exception:
    """Why an invocation dbt reports as failed without an exception: its failed nodes
    (DbtFailure), else DbtInvocationError."""
    from prefect_dbt.results import to_result

    try:
        to_result(command, raw)
    except Exception as exc:
        return exc
    return RuntimeError(f"dbt {command} failed; see the result's log_messages.")


def _masked(result: ExecutionResult) -> ExecutionResult:
    """The result with every secret this process knows masked in its error and log lines:
    dbt and its drivers quote profile values (a path, a host) in their messages, and a
    result travels on (reprs, run history, a process pool's pickles)."""
    from core_blocks.secret_values import every_form, mask_forms

    forms = every_form()
    if not forms:
        return result
    if result.log_messages:
        result.log_messages = {node: [(level, mask_forms(message, forms))
                                      for level, message in lines]
                               for node, lines in result.log_messages.items()}
    if result.error is not None:
        result.error = _masked_error(result.error, forms)
    return result


def _masked_error(error: Exception, forms: tuple[str, ...]) -> Exception:
    """error itself when it quotes no secret, else one of its type (or, if its type cannot
    be built from a message, a DbtInvocationError naming it) with the secrets masked and no
    cause or traceback that would still quote them."""
    from core_blocks.secret_values import mask_forms

    text = str(error)
    masked = mask_forms(text, forms)
    if masked == text and mask_forms(repr(error), forms) == repr(error):
        return error
    try:
        copy = type(error)(masked)
        if mask_forms(repr(copy), forms) != repr(copy):
            raise TypeError("the message is not all the exception holds")
    except Exception:
        from prefect_dbt.errors import DbtInvocationError

        copy = DbtInvocationError(f"{type(error).__name__}: {masked}")
    copy.__suppress_context__ = True
    return copy
