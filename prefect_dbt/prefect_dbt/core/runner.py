"""PrefectDbtRunner: dbt's programmatic runner as Prefect's prefect_dbt.core runs it, in this
process, each node of the run recorded in the run history as a run of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core_blocks.tasks import task
from prefect_dbt.cli.commands import _NO_COLORS, _NO_TRACKING, _QUIET, _attach_summary, _run_logger
from prefect_dbt.core.settings import PrefectDbtSettings
from prefect_dbt.errors import DbtFailure
from prefect_dbt.results import NodeResult

_ORDER = {"debug": 0, "info": 1, "warn": 2, "error": 3, "none": 4}


class DbtNodeFailed(Exception):
    """A dbt node that ended in error or failure (the state of its run in the history)."""


@task
def _dbt_node(node: NodeResult) -> NodeResult:
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
    only the node runs fail. `include_compiled_code` and the asset options are accepted and
    do nothing: assets are Prefect Cloud's.
    """

    def __init__(self, settings: PrefectDbtSettings | None = None,
                 raise_on_failure: bool = True, include_compiled_code: bool = False,
                 **_cloud_options: Any) -> None:
        self.settings = settings or PrefectDbtSettings()
        self.raise_on_failure = raise_on_failure
        self.include_compiled_code = include_compiled_code

    def invoke(self, args: list[str], **kwargs: Any) -> Any:
        """Run `dbt <args>` (kwargs go to dbtRunner.invoke as dbt's own options)."""
        from prefect_dbt.results import node_results, to_result
        from prefect_dbt.runner import invoke

        args = list(args[1:] if args[:1] == ["dbt"] else args)
        settings = self.settings
        if "--project-dir" not in args:
            args += ["--project-dir", str(settings.project_dir)]
        if "--target-path" not in args and settings.target_path != Path("target"):
            args += ["--target-path", str(settings.target_path)]
        if not any(a in args for a in ("--log-level", "--quiet", "-q")) \
                and "log_level" not in kwargs:
            args += list(_QUIET)
        if not any(a.endswith("send-anonymous-usage-stats") for a in args):
            args.append(_NO_TRACKING)
        if not any(a.endswith("use-colors") for a in args):
            args.append(_NO_COLORS)
        log = _run_logger()
        floor = _ORDER[settings.log_level]

        def on_event(level: str, message: str) -> None:
            if _ORDER.get(level, 1) >= floor:
                log(level, message)

        with settings.resolve_profiles_yml() as profiles_dir:
            if "--profiles-dir" not in args:
                args += ["--profiles-dir", profiles_dir]
            raw = invoke(args, on_event, **kwargs)
        command = "dbt " + " ".join(args[:1])
        nodes = node_results(raw) if getattr(raw, "result", None) is not None else []
        for node in nodes:
            kind, name = node.resource_type, node.unique_id.split(".")[2]
            _dbt_node.with_options(name=f"{kind} {name}")(node, return_state=True)
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
