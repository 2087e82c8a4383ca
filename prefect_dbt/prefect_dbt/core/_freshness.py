"""Source freshness for the orchestrator: `dbt source freshness` run and its sources.json read
(SourceFreshnessResult per source), the sources each node reads from, how long a node's
cached result stays good before one of them goes stale, and which nodes to skip because one
already has.

    results = run_source_freshness(settings)              # {} when dbt could not tell
    remaining, skipped = filter_stale_nodes(nodes, all_nodes, results)
"""

from __future__ import annotations

import json
import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

# A module global so Prefect's tests (and ours) can swap it:
# patch("prefect_dbt.core._freshness.dbtRunner"). Importing this module costs dbt's import;
# only the orchestrator imports it, never `import prefect_dbt`.
from dbt.cli.main import dbtRunner

from core_blocks.secret_values import mask_known
from prefect_dbt.cli.commands import _NO_TRACKING

if TYPE_CHECKING:
    from prefect_dbt.core._manifest import DbtNode

logger = logging.getLogger(__name__)

_PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1),
            "day": timedelta(days=1)}  # dbt's freshness periods
_STALE = frozenset({"error", "runtime error"})  # statuses whose dependents are skipped
_SURFACED = {"warn": logging.WARNING, "error": logging.ERROR}  # dbt's EventLevel values


@dataclass(frozen=True)
class SourceFreshnessResult:
    """One source's entry of sources.json: its status ("pass", "warn", "error" or
    "runtime error"), when it was last loaded and checked, how old it was then, and the
    thresholds it was held to."""

    unique_id: str
    status: str
    max_loaded_at: datetime | None = None
    snapshotted_at: datetime | None = None
    max_loaded_at_time_ago_in_s: float | None = None
    warn_after: timedelta | None = None
    error_after: timedelta | None = None


def _period_to_timedelta(count: int, period: str) -> timedelta:
    """`count` of dbt's freshness `period` ("minute", "hour" or "day") as a timedelta."""
    if period not in _PERIODS:
        raise ValueError(f"Unrecognized freshness period: {period!r}; dbt's periods are "
                         f"{', '.join(_PERIODS)}")
    return count * _PERIODS[period]


def _parse_threshold(threshold: dict[str, Any] | None) -> timedelta | None:
    """A sources.json threshold (`{"count": 12, "period": "hour"}`) as a timedelta; None
    when unset (dbt writes nulls for a threshold not configured)."""
    if not threshold or threshold.get("count") is None or threshold.get("period") is None:
        return None
    return _period_to_timedelta(threshold["count"], threshold["period"])


def _parse_time(value: Any, unique_id: str, field: str) -> datetime | None:
    """A sources.json timestamp as an aware datetime; None when missing or unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        logger.debug("sources.json: %s of %s is not a timestamp (%r); it is left out",
                     field, unique_id, value)
        return None
    # dbt writes UTC; one without an offset must still compare with an aware now
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def parse_source_freshness_results(sources_json_path: Path) -> dict[str, SourceFreshnessResult]:
    """Each source of dbt's sources.json, by unique_id."""
    data = json.loads(Path(sources_json_path).read_text())
    results: dict[str, SourceFreshnessResult] = {}
    for entry in data.get("results") or []:
        unique_id = entry.get("unique_id", "")
        criteria = entry.get("criteria") or {}
        results[unique_id] = SourceFreshnessResult(
            unique_id=unique_id, status=entry.get("status", ""),
            max_loaded_at=_parse_time(entry.get("max_loaded_at"), unique_id, "max_loaded_at"),
            snapshotted_at=_parse_time(entry.get("snapshotted_at"), unique_id,
                                       "snapshotted_at"),
            max_loaded_at_time_ago_in_s=entry.get("max_loaded_at_time_ago_in_s"),
            warn_after=_parse_threshold(criteria.get("warn_after")),
            error_after=_parse_threshold(criteria.get("error_after")))
    return results


def _surface_event(event: Any) -> None:
    """dbt callback: its warnings and errors to our logger, since its console is silenced."""
    try:
        level = _SURFACED.get(str(getattr(event.info.level, "value", event.info.level)))
        if level and event.info.name == "MainStackTrace":  # dbt's own traceback: detail
            level = logging.DEBUG
        message = event.info.msg
        if level and isinstance(message, str) and message.strip():
            logger.log(level, "dbt source freshness: %s", mask_known(str(message)))
    except Exception:  # a callback that raises would abort dbt's run
        logger.debug("dbt event not surfaced", exc_info=True)


def run_source_freshness(settings: Any, target_path: Path | None = None,
                         target: str | None = None) -> dict[str, SourceFreshnessResult]:
    """Run `dbt source freshness` for `settings`' project and read its sources.json.

    dbt's console output is silenced (its log file keeps `settings.log_level`); its warnings
    and errors go to this module's logger. Freshness is advisory to the orchestrator: when
    dbt fails before writing sources.json this logs why and returns {}, never raises. A run
    where some sources failed returns the others, with a warning that they may be partial.

        run_source_freshness(PrefectDbtSettings(project_dir="shop"))
    """
    folder = Path(target_path or settings.target_path)
    output = Path(settings.project_dir) / folder / "sources.json"
    output.unlink(missing_ok=True)  # a failed run must not leave last run's answers
    level = getattr(settings.log_level, "value", settings.log_level)
    with settings.resolve_profiles_yml() as profiles_dir:
        args = ["source", "freshness", "--project-dir", str(settings.project_dir),
                "--profiles-dir", str(profiles_dir), "--log-level", "none",
                "--log-level-file", str(level), "--target-path", str(folder), _NO_TRACKING]
        if target is not None:
            args += ["--target", target]
        from prefect_dbt.runner import dbt_session

        try:
            with dbt_session():
                result = dbtRunner(callbacks=[_surface_event]).invoke(args)
        except Exception as exc:
            logger.warning("dbt source freshness raised %s: %s; freshness checks are off for "
                           "this run", type(exc).__name__, mask_known(str(exc)))
            return {}

    error = getattr(result, "exception", None)
    cause = f": {mask_known(str(error))}" if error is not None else ""
    if not output.exists():
        logger.warning("dbt source freshness wrote no %s%s; freshness checks are off for "
                       "this run; dbt.log in the project's log folder has the details",
                       output, cause)
        return {}
    if not result.success:
        logger.warning("dbt source freshness reported a failure%s; the results in %s may be "
                       "partial", cause, output)
    try:
        return parse_source_freshness_results(output)
    except Exception as exc:
        logger.warning("Could not read %s (%s: %s); freshness checks are off for this run",
                       output, type(exc).__name__, exc)
        return {}


def get_source_ancestors(node_id: str, all_nodes: dict[str, DbtNode]) -> set[str]:
    """The unique_ids of every source `node_id` reads from, directly or through other
    nodes (ephemeral models included); nodes missing from `all_nodes` end the walk."""
    start = all_nodes.get(node_id)
    pending = list(start.depends_on) if start else []
    seen: set[str] = set()
    sources: set[str] = set()
    while pending:
        current = pending.pop()
        node = all_nodes.get(current)
        if current in seen or node is None:
            continue
        seen.add(current)
        if node.resource_type == "source":  # NodeType is a str enum
            sources.add(current)
        else:
            pending.extend(node.depends_on)
    return sources


def compute_freshness_expiration(node_id: str, all_nodes: dict[str, DbtNode],
                                 freshness_results: dict[str, SourceFreshnessResult],
                                 ) -> timedelta | None:
    """How long a cached result of `node_id` stays good: the least time left before one of
    its sources passes its threshold (warn_after, else error_after), counting the time since
    the check ran, never below zero. None when no source of it has a threshold and an age.
    """
    now = datetime.now(timezone.utc)
    left: list[timedelta] = []
    for source_id in get_source_ancestors(node_id, all_nodes):
        result = freshness_results.get(source_id)
        if result is None or result.max_loaded_at_time_ago_in_s is None:
            continue
        threshold = result.warn_after if result.warn_after is not None else result.error_after
        if threshold is None:
            continue
        age = timedelta(seconds=result.max_loaded_at_time_ago_in_s)
        if result.snapshotted_at is not None:
            age += now - result.snapshotted_at
        left.append(max(threshold - age, timedelta(0)))
    return min(left, default=None)


def filter_stale_nodes(nodes: dict[str, DbtNode], all_nodes: dict[str, DbtNode],
                       freshness_results: dict[str, SourceFreshnessResult],
                       ) -> tuple[dict[str, DbtNode], dict[str, Any]]:
    """`nodes` split into those to run and those to skip: a node reading (through any chain)
    from a source whose freshness status is "error" or "runtime error", and every node of
    `nodes` downstream of one. Returns (remaining, skipped), skipped mapping unique_id to
    `{"status": "skipped", "reason": ...}` naming the stale sources."""
    stale = {sid for sid, result in freshness_results.items() if result.status in _STALE}
    if not stale:
        return nodes, {}

    reasons: dict[str, str] = {}
    for node_id in nodes:
        found = get_source_ancestors(node_id, all_nodes) & stale
        if found:
            reasons[node_id] = f"stale source: {', '.join(sorted(found))}"

    dependents: dict[str, list[str]] = {}
    for node_id, node in nodes.items():
        for upstream in node.depends_on:
            dependents.setdefault(upstream, []).append(node_id)
    queue = deque(reasons)
    while queue:
        for downstream in dependents.get(queue.popleft(), ()):
            if downstream not in reasons:
                reasons[downstream] = "upstream skipped due to stale source"
                queue.append(downstream)

    remaining = {nid: node for nid, node in nodes.items() if nid not in reasons}
    skipped = {nid: {"status": "skipped", "reason": reason} for nid, reason in reasons.items()}
    return remaining, skipped
