"""PrefectDbtRunner: dbt's programmatic runner as Prefect's prefect_dbt.core runs it, in this
process, each node of the run recorded in the run history as a run of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Imported here, and looked up in this module at each call, so that code written against
# Prefect's runner (its tests included) can swap it with patch("prefect_dbt.core.runner.dbtRunner").
from dbt.cli.main import dbtRunner

from core_blocks.tasks import task
from prefect_dbt.cli.commands import _NO_COLORS, _NO_TRACKING, _QUIET, _attach_summary, _run_logger
from prefect_dbt.core._tracker import NodeTaskTracker
from prefect_dbt.core.settings import PrefectDbtSettings
from prefect_dbt.errors import DbtFailure
from prefect_dbt.results import NodeResult

_ORDER = {"debug": 0, "test": 1, "info": 2, "warn": 3, "error": 4, "none": 5}
# dbt flags that name a setting: (flag, setting, type); taken out of args and kwargs, then
# given to dbt once, from the setting
_PATH_FLAGS = (("--target-path", "target_path"), ("--profiles-dir", "profiles_dir"),
               ("--project-dir", "project_dir"))


class DbtNodeFailed(Exception):
    """A dbt node that ended in error or failure (the state of its run in the history)."""


@task
def execute_dbt_node(node: NodeResult) -> NodeResult:
    """One dbt node's outcome, as a run of its own: failed if the node failed."""
    if node.failed:
        raise DbtNodeFailed(f"Node {node.unique_id} finished with status {node.status}: "
                            f"{' '.join((node.message or 'no message').split())}")
    return node


class PrefectDbtRunner:
    """Run dbt commands as `dbtRunner().invoke` does, with the project and profiles of
    `settings`, dbt's log lines in the run's log, and every node recorded as a run named
    "<type> <name>" (e.g. "model orders") whose state is the node's: failed nodes are
    Failed runs. `invoke` returns dbt's dbtRunnerResult.

        PrefectDbtRunner(settings=PrefectDbtSettings(project_dir="shop")).invoke(["build"])

    `profiles.yml` may refer to saved blocks (`{{ prefect.blocks.secret.pg-password.value }}`,
    see PrefectDbtSettings.resolve_profiles_yml). With `raise_on_failure` (default) a failed
    node or a command dbt could not run raises DbtFailure / DbtInvocationError; without it
    only the node runs fail. `include_compiled_code`, `disable_assets` and the other asset
    options are accepted and do nothing: assets are Prefect Cloud's.
    """

    def __init__(self, settings: PrefectDbtSettings | None = None,
                 raise_on_failure: bool = True, include_compiled_code: bool = False,
                 disable_assets: bool = False, _force_nodes_as_tasks: bool = False,
                 **_cloud_options: Any) -> None:
        self.settings = settings or PrefectDbtSettings()
        self.raise_on_failure = raise_on_failure
        self.include_compiled_code = include_compiled_code
        self.disable_assets = disable_assets
        self._force_nodes_as_tasks = _force_nodes_as_tasks
        self._target_path: Path | None = None
        self._profiles_dir: Path | None = None
        self._project_dir: Path | None = None
        self.tracker = NodeTaskTracker()

    @property
    def target_path(self) -> Path:
        """dbt's target folder: as the last invoke was given it, else the settings'."""
        return self._target_path or self.settings.target_path

    @property
    def profiles_dir(self) -> Path:
        return self._profiles_dir or self.settings.profiles_dir

    @property
    def project_dir(self) -> Path:
        return self._project_dir or self.settings.project_dir

    @property
    def log_level(self) -> Any:
        return self.settings.log_level

    def _extract_flag_value(self, args: list[str], flag: str) -> tuple[list[str], str | None]:
        """`args` without `flag` and its value, and the value (None when absent)."""
        rest = list(args)
        if flag in rest[:-1]:
            at = rest.index(flag)
            value = rest[at + 1]
            del rest[at:at + 2]
            return rest, value
        return rest, None

    def _update_setting_from_kwargs(self, setting: str, kwargs: dict[str, Any],
                                    convert: Any = None) -> None:
        """Take `setting` out of dbt's keyword options into this runner's override."""
        if setting in kwargs:
            value = kwargs.pop(setting)
            setattr(self, f"_{setting}", convert(value) if convert else value)

    def _update_setting_from_cli_flag(self, args: list[str], flag: str, setting: str,
                                      convert: Any = None) -> list[str]:
        """Take `flag VALUE` out of `args` into this runner's override of `setting`."""
        rest, value = self._extract_flag_value(args, flag)
        if value:
            setattr(self, f"_{setting}", convert(value) if convert else value)
        return rest

    def invoke(self, args: list[str], **kwargs: Any) -> Any:
        """Run `dbt <args>` (kwargs go to dbtRunner.invoke as dbt's own options)."""
        from prefect_dbt.results import node_results, to_result
        from prefect_dbt.runner import invoke

        args = list(args[1:] if args[:1] == ["dbt"] else args)
        for flag, setting in _PATH_FLAGS:
            self._update_setting_from_kwargs(setting, kwargs, Path)
            args = self._update_setting_from_cli_flag(args, flag, setting, Path)
        args += ["--project-dir", str(self.project_dir)]
        if Path(self.target_path) != Path("target"):
            args += ["--target-path", str(self.target_path)]
        if not any(a in args for a in ("--log-level", "--quiet", "-q")) \
                and "log_level" not in kwargs:
            args += list(_QUIET)
        if not any(a.endswith("send-anonymous-usage-stats") for a in args):
            args.append(_NO_TRACKING)
        if not any(a.endswith("use-colors") for a in args):
            args.append(_NO_COLORS)
        log = _run_logger()
        floor = _ORDER.get(str(getattr(self.log_level, "value", self.log_level)), 2)
        tracker = self.tracker = NodeTaskTracker()

        def on_event(level: str, message: str) -> None:
            if _ORDER.get(level, 2) >= floor:
                log(level, message)

        def on_node_finished(unique_id: str, status: str, message: str) -> None:
            tracker.set_node_status(unique_id, {"node_info": {
                "unique_id": unique_id, "node_status": status}}, message)

        settings = self.settings
        if self._profiles_dir is not None:
            settings = settings.model_copy(update={"profiles_dir": self._profiles_dir})
        with settings.resolve_profiles_yml() as profiles_dir:
            raw = invoke([*args, "--profiles-dir", profiles_dir], on_event, on_node_finished,
                         runner_class=dbtRunner, **kwargs)
        command = "dbt " + " ".join(args[:1])
        nodes = node_results(raw) if getattr(raw, "result", None) is not None else []
        self._record_nodes(raw, nodes)
        from core_blocks import get_run_context
        if nodes and get_run_context() is not None:
            from prefect_dbt.results import DbtResult
            _attach_summary(DbtResult(command, bool(raw.success), nodes, raw), args, None)
        if self.raise_on_failure:
            try:
                to_result(command, raw)
            except DbtFailure as exc:
                raise DbtFailure(f"Failures detected during invocation of dbt command "
                                 f"'{args[0]}': {exc}", exc.result) from None
        return raw

    def _record_nodes(self, raw: Any, nodes: list[NodeResult]) -> None:
        """A run per node, in dbt's order, each within the invoking run and after its
        upstream nodes' runs (their states are kept in the tracker)."""
        from core_blocks import get_run_context

        context = {"run_context": get_run_context()}
        depends = {r.node.unique_id: list(getattr(getattr(r.node, "depends_on", None),
                                                  "nodes", None) or [])
                   for r in raw.result.results} if nodes else {}
        for node in nodes:
            kind, name = node.resource_type, node.unique_id.split(".")[2]
            record = execute_dbt_node.with_options(name=f"{kind} {name}")
            self.tracker.start_task(node.unique_id, record)
            self.tracker.set_node_dependencies(node.unique_id, depends.get(node.unique_id, []))
            self.tracker.set_task_run_name(node.unique_id, f"{kind} {name}")
            self.tracker.run_task_in_thread(node.unique_id, record, None,
                                            {"node": node}, context).join()
