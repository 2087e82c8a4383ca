"""The worker's side of a task run: check it shares the flow's store, take the run over from
the flow, run it with the core's engine, and report how it ended.

The flow recorded the run Pending before sending it; the worker continues the same run (same
id, next state number), so history shows one run whichever process wrote each state. A run
Dask sends again because its worker died continues too, after a Retrying state that says so.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

from prefect_dask.errors import RemoteTaskError, WorkerSetupError
from prefect_dask.packing import pack, unpack


def store_identity(store: Any) -> dict[str, Any] | None:
    """What a worker checks its own store against: the flow's store without its password,
    and for SQLite the file's path and inode (the same file, not just the same path)."""
    if store is None:
        return None
    from core_blocks.store_url import describe_url

    identity: dict[str, Any] = {"url": describe_url(store.url), "sqlite": None, "inode": None}
    if store.url.startswith("sqlite:///"):
        path = Path(store.url[len("sqlite:///"):]).resolve()
        identity.update(sqlite=str(path), inode=path.stat().st_ino)
    return identity


def worker_name() -> str:
    """This worker's address and host name, as run history shows it."""
    try:
        from distributed import get_worker

        address = get_worker().address
    except (ImportError, ValueError):  # not in a Dask worker (called directly)
        address = "local"
    return f"{address} ({socket.gethostname()})"


def run_on_worker(payload: bytes, meta: dict[str, Any]) -> dict[str, Any]:
    """Run one task run sent by DaskTaskRunner.submit; its report for the flow (see
    `report`). Never raises for the task's own failure: that is a state in the report."""
    from core_blocks.runtime.context import RunContext, current_run
    from core_blocks.runtime.history import Run
    from core_blocks.runtime.states import State, StateType

    worker = worker_name()
    run = Run("task", meta["fn_name"], {}, parent_id=meta["parent_id"],
              flow_name=meta["flow_name"], flow_run_id=meta["flow_run_id"], id=meta["run_id"],
              created=meta["created"], worker=worker)
    try:
        store, row = _flow_store(meta, worker)
        _take_over(run, store, row, worker)
    except WorkerSetupError as exc:  # nothing to record in: the flow records it
        run.states.append(State(StateType.FAILED, message=str(exc), error=exc))
        return report(run, run.state)
    flow_run = Run("flow", meta["flow_name"] or "flow", {}, id=meta["flow_run_id"] or "")
    token = current_run.set(RunContext(flow_run, flow_run, None, meta["log_prints"], None))
    try:
        try:
            fn, task, args, kwargs = unpack(payload)
        except Exception as exc:
            return report(run, _cannot_start(run, meta, exc))
        _mask_block_secrets(run, args, kwargs)
        if task.is_async:
            from core_blocks.runtime.engine import arun_task

            state = asyncio.run(_until_cancelled(arun_task(task, args, kwargs, run)))
        else:  # a sync task cannot be interrupted: it runs to its end, as on the thread pool
            # (if its flow ended it Cancelled meanwhile, the store keeps that, not this end)
            state = fn(task, args, kwargs, run)
    finally:
        current_run.reset(token)
    return report(run, state)  # the flow records these states too: no need to wait for ours


CANCEL_POLL_SECONDS = 0.2  # how soon an async task stops after its flow run is cancelled


async def _until_cancelled(work: Any) -> Any:
    """await work, cancelling it when the flow gives up on this Dask task (its flow run was
    cancelled): the run then ends Cancelled here too, as on the thread pool."""
    from distributed import get_worker

    running = asyncio.ensure_future(work)
    try:
        worker = get_worker()
        key = worker.get_current_task()
    except ValueError:  # called outside a Dask worker
        return await running
    while not running.done():
        await asyncio.wait([running], timeout=CANCEL_POLL_SECONDS)
        task = worker.state.tasks.get(key)
        if task is None or task.state in ("cancelled", "released", "forgotten"):
            running.cancel()
            break
    return await running


def _mask_block_secrets(run: Any, args: tuple, kwargs: dict) -> None:
    """Mask in the run's error text the secret values of every block loaded for it on this
    worker: blocks travel by name, so the values the flow collected never come here."""
    from core_blocks.runtime.redaction import redact_parameters

    found: set[str] = set()
    redact_parameters({"arguments": [*args, *kwargs.values()]}, found)
    run.secrets.add(found)


def _flow_store(meta: dict[str, Any], worker: str) -> tuple[Any, dict[str, Any] | None]:
    """This worker's store, if it is the flow's, and the run's row in it; WorkerSetupError
    naming the fix if not."""
    flow = meta["store"]
    if flow is None:
        return None, None  # the flow records no history (its store could not open)
    from core_blocks.settings import current
    from core_blocks.store import get_store
    from core_blocks.store import runs as stored_runs
    from core_blocks.store_url import describe_url

    settings = current()
    if flow["sqlite"]:
        path = Path(flow["sqlite"])
        try:
            inode = path.stat().st_ino
        except OSError:
            raise WorkerSetupError(
                f"Worker {worker} cannot reach the flow's SQLite store {path}: no such file "
                "here. SQLite serves only workers sharing the flow's file system; for workers "
                "on other hosts put the store on PostgreSQL (CORE_BLOCKS_STORE_URL="
                "postgresql://...) on every host.") from None
        if inode != flow["inode"]:
            raise WorkerSetupError(
                f"{path} on worker {worker} is another file than the flow's SQLite store of "
                "that name (a file system not shared with the flow). Put the store on "
                "PostgreSQL (CORE_BLOCKS_STORE_URL=postgresql://...) on every host.")
        own = settings.sqlite_path
        if own is None or own.resolve() != path:
            raise WorkerSetupError(
                f"Worker {worker} uses the store {describe_url(settings.store_url)}, not the "
                f"flow's {path}. Start it with CORE_BLOCKS_STORE_URL=sqlite:///{path}.")
    try:
        store = get_store(settings)
        row = stored_runs.run_by_id(store, meta["run_id"])
    except Exception as exc:
        raise WorkerSetupError(
            f"Worker {worker} cannot open its store {describe_url(settings.store_url)}: "
            f"{exc} Give it the flow's store: CORE_BLOCKS_STORE_URL={flow['url']} (its "
            "password from the URL, PGPASSWORD or ~/.pgpass).") from None
    if row is None:
        raise WorkerSetupError(
            f"Worker {worker} records runs in {describe_url(settings.store_url)}, which is not "
            f"the flow's store {flow['url']}. Start every worker with CORE_BLOCKS_STORE_URL "
            "set to the flow's store.")
    return store, row


def _take_over(run: Any, store: Any, row: dict[str, Any] | None, worker: str) -> None:
    """Continue the flow's record of run: its states so far, attempts, and a Retrying state
    when an earlier worker started it and died."""
    from core_blocks.runtime.states import State, StateType
    from core_blocks.store import runs as stored_runs

    if store is None:
        return
    states = stored_runs.run_states(store, run.id)
    run.states = [State(StateType(s["state"]), timestamp=s["at"], message=s["message"] or "",
                        name=s["name"]) for s in states]
    run.attempts = row["attempts"] if row else 0
    run.store = store
    if run.states and run.states[-1].type is not StateType.PENDING:
        lost = row.get("worker") or "another worker"
        run.set_state(State(StateType.RETRYING, message=(
            f"The worker running it ({lost}) stopped; Dask runs it again on {worker}.")))


def _cannot_start(run: Any, meta: dict[str, Any], exc: Exception) -> Any:
    """Finish a run whose task or arguments could not be loaded here."""
    from core_blocks.runtime.states import State, StateType

    if not isinstance(exc, WorkerSetupError):
        exc = WorkerSetupError(
            f"Task {meta['task_name']!r} could not be loaded on worker {run.worker}: "
            f"{type(exc).__name__}: {exc}. Install the flow's code and its packages on every "
            "worker.")
    return run.set_state(State(StateType.FAILED, message=str(exc), error=exc))


def report(run: Any, state: Any) -> dict[str, Any]:
    """How the run ended, for the flow to mirror: its states, attempts, parameters, error, and
    its value or error pickled with blocks by name (an error or value holding a secret value
    the run received does not travel: a RemoteTaskError with the masked text does)."""
    result = error = None
    if state.error is not None:
        error = _travelling_error(run, state.error)
    elif state.data is not None:
        result = pack(state.data, f"the result of task run {run.name!r}")
        if _holds_secret(run, result):
            error = pack(RemoteTaskError(
                f"Task run {run.name!r} returned a secret value it received; it is not sent "
                "back from the worker. Return the block (workers pass it by name) instead."),
                "an error")
            result = None
    return {
        "states": [(s.type.value, s.name, s.timestamp, s.message) for s in run.states],
        "attempts": run.attempts, "parameters": run.parameters, "error_fields": run.error,
        "worker": run.worker, "result": result, "exception": error,
    }


def _travelling_error(run: Any, error: BaseException) -> bytes:
    try:
        data = pack(error, "an error")
        if not _holds_secret(run, data):
            return data
    except Exception:
        pass
    text = run.secrets.mask(f"{type(error).__name__}: {error}")
    return pack(RemoteTaskError(text), "an error")


def _holds_secret(run: Any, data: bytes) -> bool:
    text = data.decode("latin-1")
    return run.secrets.mask(text) != text
