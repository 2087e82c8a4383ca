"""DbtResult: what a dbt command did, node by node; and the rule for when that is a failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prefect_dbt.errors import DbtFailure, DbtInvocationError

FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})


@dataclass(frozen=True)
class NodeResult:
    """One node's outcome: a model, seed, snapshot or test."""

    unique_id: str
    resource_type: str
    status: str
    execution_time: float
    message: str | None
    rows_affected: int | None
    failures: int | None

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES


@dataclass(frozen=True)
class DbtResult:
    """The outcome of one dbt command: `success`, the command, and every node's result.

    `raw` is dbt's own dbtRunnerResult, for what this leaves out (e.g. `dbt ls` output);
    `result` and `exception` read through to it, as code written for Prefect's tasks (which
    return the dbtRunnerResult itself) reads them.
    """

    command: str
    success: bool
    nodes: list[NodeResult]
    raw: Any = field(default=None, repr=False, compare=False)

    @property
    def result(self) -> Any:
        """dbt's own result: RunExecutionResult, the list `dbt ls` prints, a Manifest …"""
        return getattr(self.raw, "result", None)

    @property
    def exception(self) -> BaseException | None:
        """What stopped dbt, if anything (the dbtRunnerResult's exception)."""
        return getattr(self.raw, "exception", None)

    @property
    def failed_nodes(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.failed]

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per node, for the run's table artifact."""
        return [{"node": n.unique_id, "type": n.resource_type, "status": n.status,
                 "seconds": round(n.execution_time, 3), "rows": n.rows_affected,
                 "failures": n.failures, "message": n.message} for n in self.nodes]


def node_results(raw: Any) -> list[NodeResult]:
    """Each node of a dbtRunnerResult; none for commands without nodes (deps, debug, ls)."""
    results = getattr(raw.result, "results", None) or []
    nodes = []
    for r in results:
        response = r.adapter_response or {}
        nodes.append(NodeResult(
            unique_id=r.node.unique_id, resource_type=str(r.node.resource_type),
            status=str(r.status), execution_time=float(r.execution_time or 0.0),
            message=r.message, rows_affected=response.get("rows_affected"),
            failures=r.failures))
    return nodes


def to_result(command: str, raw: Any) -> DbtResult:
    """dbt's outcome as a DbtResult, or the error it amounts to: DbtFailure when nodes failed
    (each named with dbt's message), DbtInvocationError when dbt could not run the command."""
    nodes = node_results(raw)
    result = DbtResult(command=command, success=bool(raw.success), nodes=nodes, raw=raw)
    failed = result.failed_nodes
    if failed:
        listing = "; ".join(f"{n.unique_id} ({n.status}): {_one_line(n.message)}"
                            for n in failed)
        raise DbtFailure(f"{command} failed: {len(failed)} of {len(nodes)} nodes failed: "
                         f"{listing}. Fix them and run again; the error's .result holds "
                         "every node's outcome.", result)
    if not raw.success:
        reason = _one_line(str(raw.exception)) if raw.exception else "see the run's log"
        raise DbtInvocationError(f"{command} could not run: {reason}. Check the project "
                                 "directory, the profile and the command's arguments.")
    return result


def _one_line(text: str | None) -> str:
    return " ".join((text or "no message").split())
