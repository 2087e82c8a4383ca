"""Running chosen dbt nodes in this process: DbtCoreExecutor runs one node, or a set of
independent nodes (a wave), with a project's settings and reports an ExecutionResult."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from prefect_dbt.core._manifest import DbtNode
    from prefect_dbt.core.settings import PrefectDbtSettings


@dataclass
class ExecutionResult:
    """What running some nodes did: `success`, the nodes asked for, the error if any,
    `artifacts` (unique_id -> status, message, execution_time) and dbt's log lines
    (`log_messages`: unique_id, or "" for lines of no node -> (level, message) pairs)."""

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


_WAVE_COMMANDS = {"model": "run", "seed": "seed", "snapshot": "snapshot", "test": "test"}


class DbtCoreExecutor:
    """Runs nodes with dbt's programmatic runner, one invocation at a time per process.

        executor = DbtCoreExecutor(PrefectDbtSettings(project_dir="shop"))
        executor.execute_node(node, "run").success
    """

    def __init__(self, settings: PrefectDbtSettings) -> None:
        self.settings = settings

    def execute_node(self, node: DbtNode, command: str, full_refresh: bool = False,
                     target: str | None = None,
                     extra_cli_args: list[str] | None = None) -> ExecutionResult:
        """Run `dbt <command>` selecting `node` alone."""
        return self._invoke(command, [node], full_refresh, None, target, extra_cli_args)

    def execute_wave(self, nodes: list[DbtNode], full_refresh: bool = False,
                     indirect_selection: str | None = None, target: str | None = None,
                     extra_cli_args: list[str] | None = None) -> ExecutionResult:
        """Run `nodes` in one invocation: `dbt build` if they mix types, else the command
        of their type (`run`, `seed`, `snapshot`, `test`)."""
        if not nodes:
            raise ValueError("execute_wave needs at least one node; got an empty list.")
        kinds = {str(n.resource_type) for n in nodes}
        command = _WAVE_COMMANDS.get(kinds.pop(), "build") if len(kinds) == 1 else "build"
        return self._invoke(command, nodes, full_refresh, indirect_selection, target,
                            extra_cli_args)

    def resolve_manifest_path(self) -> Path:
        """manifest.json under the project's target folder."""
        return Path(self.settings.project_dir) / self.settings.target_path / "manifest.json"

    def _invoke(self, command: str, nodes: list[DbtNode], full_refresh: bool,
                indirect_selection: str | None, target: str | None,
                extra_cli_args: list[str] | None) -> ExecutionResult:
        from prefect_dbt.cli.commands import _NO_COLORS, _NO_TRACKING, _QUIET
        from prefect_dbt.results import node_results
        from prefect_dbt.runner import invoke

        settings = self.settings
        args = [command, "--select", *(n.dbt_selector for n in nodes),
                "--project-dir", str(settings.project_dir),
                "--target-path", str(settings.target_path), *_QUIET, _NO_TRACKING,
                _NO_COLORS]
        if full_refresh:
            args.append("--full-refresh")
        if indirect_selection:
            args += ["--indirect-selection", indirect_selection]
        if target:
            args += ["--target", target]
        args += list(extra_cli_args or ())
        lines: list[tuple[str, str]] = []
        ids = [n.unique_id for n in nodes]
        try:
            with settings.resolve_profiles_yml() as profiles_dir:
                raw = invoke([*args, "--profiles-dir", profiles_dir],
                             lambda level, message: lines.append((level, message)))
        except Exception as exc:  # a profile that cannot be resolved: the nodes did not run
            return ExecutionResult(False, ids, exc, None, {"": lines})
        results = node_results(raw) if getattr(raw, "result", None) is not None else []
        artifacts = {r.unique_id: {"status": r.status, "message": r.message,
                                   "execution_time": r.execution_time} for r in results}
        failed = [r for r in results if r.failed]
        error = None
        if failed or not raw.success:
            error = raw.exception or RuntimeError(
                f"dbt {command} failed for {', '.join(r.unique_id for r in failed) or ids}: "
                + "; ".join(" ".join((r.message or r.status).split()) for r in failed))
        return ExecutionResult(error is None, ids, error, artifacts or None, {"": lines})
