"""DbtResult: what a dbt command did, node by node; and the rule for when that is a failure.

Imports dbt (DbtResult is dbt's own dbtRunnerResult, extended): only code that has run dbt
imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dbt.cli.main import dbtRunnerResult

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


class DbtResult(dbtRunnerResult):
    """The outcome of one dbt command: dbt's own dbtRunnerResult (`success`, `exception`,
    `result`: what code written for Prefect's tasks reads), plus the command and every
    node's result.

    `raw` is the dbtRunnerResult dbt returned, for what this leaves out.
    """

    def __init__(self, command: str, success: bool, nodes: list[NodeResult],
                 raw: Any = None) -> None:
        # dbtRunnerResult's fields, set here as its __init__ would: this object is read-only.
        for name, value in (("success", success),
                            ("exception", getattr(raw, "exception", None)),
                            ("result", getattr(raw, "result", None)),
                            ("command", command), ("nodes", nodes), ("raw", raw)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"DbtResult is read-only: cannot set {name!r}")

    def __repr__(self) -> str:
        return (f"DbtResult(command={self.command!r}, success={self.success}, "
                f"nodes={len(self.nodes)})")

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
