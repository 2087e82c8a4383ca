"""DaskTaskRunner: a flow's submitted tasks run on a dask.distributed cluster.

The engine calls it as it calls the thread pool: `submit(fn, task, args, kwargs, run)` returns
a (concurrent future of the final State, None), `duplicate()` gives each flow run its own, and
`shutdown()` waits for what was submitted. Between them:

- submit pickles the task and its arguments (blocks by name, see packing.py) and queues them;
- one dispatcher thread writes the queued runs' Pending states to the store, then hands the
  batch to Dask, so a worker always finds the run it continues (see worker_runs.py);
- a settler thread mirrors each run's end, as the worker reported it, on the flow's own Run
  object, and completes its future; Dask giving up (its workers died) ends the run Crashed.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("core_blocks.runs")

_MANAGED = "asynchronous"  # the runner's own client and cluster are synchronous


def _resolve_class(cluster_class: str | Callable | None) -> Callable | None:
    if not isinstance(cluster_class, str):
        return cluster_class
    module, _, name = cluster_class.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ValueError(f"cluster_class {cluster_class!r} could not be imported ({exc}); "
                         "give a class or its dotted path, e.g. 'distributed.LocalCluster'."
                         ) from None


class DaskTaskRunner:
    """Runs a flow's submitted tasks (`.submit`, `.map`) on Dask workers.

    Give `address` to use a running scheduler ("tcp://10.0.0.5:8786"), or `cluster` for a
    cluster object you started; otherwise each flow run starts a temporary cluster of
    `cluster_class` (default a `distributed.LocalCluster` of worker processes) with
    `cluster_kwargs`, scaled adaptively with `adapt_kwargs` if given, and closes it at the
    end. `client_kwargs` go to `distributed.Client`. Prefect-dask's keywords, same meaning.

    Workers need the flow's code, its store (CORE_BLOCKS_STORE_URL) and a secret backend that
    holds the secrets of the blocks tasks receive: blocks travel by name, never by value.

        >>> from core_blocks import flow
        >>> @flow(task_runner=DaskTaskRunner(cluster_kwargs={"n_workers": 2}))
        ... def nightly(): ...
    """

    remote = True  # tasks run in other processes: async tasks go through submit too

    def __init__(self, cluster: Any = None, address: str | None = None,
                 cluster_class: str | Callable | None = None,
                 cluster_kwargs: dict | None = None, adapt_kwargs: dict | None = None,
                 client_kwargs: dict | None = None):
        if address and (cluster is not None or cluster_class or cluster_kwargs or adapt_kwargs):
            raise ValueError("Give DaskTaskRunner either address (a running scheduler) or "
                             "cluster/cluster_class/cluster_kwargs/adapt_kwargs, not both.")
        if cluster is not None and (cluster_class or cluster_kwargs):
            raise ValueError("Give DaskTaskRunner either cluster (one you started) or "
                             "cluster_class/cluster_kwargs (one it starts), not both.")
        for name, given in (("cluster_kwargs", cluster_kwargs), ("client_kwargs", client_kwargs)):
            if given and _MANAGED in given:
                raise ValueError(f"{name} cannot set {_MANAGED!r}: the runner manages it.")
        self.cluster = cluster
        self.address = address
        self.cluster_class = _resolve_class(cluster_class)
        self.cluster_kwargs = dict(cluster_kwargs or {})
        self.adapt_kwargs = dict(adapt_kwargs or {})
        self.client_kwargs = {"set_as_default": False, **(client_kwargs or {})}
        self._client: Any = None
        self._owned_cluster: Any = None
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._dispatcher: threading.Thread | None = None
        self._settler: concurrent.futures.ThreadPoolExecutor | None = None
        self._arrived: queue.SimpleQueue = queue.SimpleQueue()  # (run, Dask future, done)
        self._in_flight: dict[str, Any] = {}  # run id -> Dask future (Dask drops unreferenced)
        self._open = 0  # submitted runs not yet settled
        self._cancelled = False  # shutdown(wait=False): the flow run was cancelled
        self._idle = threading.Condition(self._lock)

    def duplicate(self) -> DaskTaskRunner:
        """A fresh runner with the same settings (each flow run gets its own)."""
        return type(self)(cluster=self.cluster, address=self.address,
                          cluster_class=self.cluster_class, cluster_kwargs=self.cluster_kwargs,
                          adapt_kwargs=self.adapt_kwargs, client_kwargs=self.client_kwargs)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        keys = ("cluster", "address", "cluster_class", "cluster_kwargs", "adapt_kwargs",
                "client_kwargs")
        return all(getattr(self, k) == getattr(other, k) for k in keys)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        where = self.address or (self.cluster and repr(self.cluster)) or (
            f"{getattr(self.cluster_class, '__name__', 'LocalCluster')}({self.cluster_kwargs})")
        return f"DaskTaskRunner({where})"

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("A DaskTaskRunner stays in its flow's process; tasks on workers get "
                        "a client with prefect_dask.get_dask_client().")

    # -- the cluster and client -------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The runner's distributed.Client, started at the first submit."""
        self._start()
        return self._client

    def _start(self) -> None:
        with self._lock:
            if self._client is not None:
                return
            import distributed

            target: Any = self.address or self.cluster
            if target is None:
                cluster_class = self.cluster_class or distributed.LocalCluster
                kwargs = dict(self.cluster_kwargs)
                if cluster_class is distributed.LocalCluster:
                    kwargs.setdefault("host", "127.0.0.1")  # never every interface by default
                    # The dashboard binds every interface unless told, whatever `host` says.
                    kwargs.setdefault("dashboard_address", "127.0.0.1:8787")
                logger.info("Starting a temporary Dask cluster: %s", cluster_class.__name__)
                target = self._owned_cluster = cluster_class(**kwargs)
            if self.adapt_kwargs and not isinstance(target, str):
                target.adapt(**self.adapt_kwargs)
            self._client = distributed.Client(target, **self.client_kwargs)
            self._settler = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix="core-blocks-dask-settle")
            self._dispatcher = threading.Thread(target=self._dispatch_loop, daemon=True,
                                                name="core-blocks-dask-dispatch")
            self._dispatcher.start()

    # -- the engine's interface -------------------------------------------------------------

    def submit(self, fn: Callable[..., Any], task: Any, args: tuple, kwargs: dict,
               run: Any) -> tuple[concurrent.futures.Future, None]:
        """Send fn(task, args, kwargs, run) to a worker; a future of the run's final State."""
        from core_blocks.runtime.futures import has_futures

        self._start()
        done: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            self._open += 1
        try:
            if has_futures(args) or has_futures(kwargs.values()):
                # Its inputs are other runs' futures: wait for them off the flow's thread.
                threading.Thread(target=self._send_when_ready, daemon=True,
                                 args=(fn, task, args, kwargs, run, done)).start()
            else:
                self._send(fn, task, args, kwargs, run, done)
        except Exception as exc:
            self._refuse(task, run, exc, done)
        return done, None

    def shutdown(self, wait: bool = True) -> None:
        """Wait for every submitted run (wait=False: cancel them), then close the client and
        the cluster this runner started."""
        with self._lock:
            if self._client is None:
                return
            if wait:
                while self._open:
                    self._idle.wait()
            else:
                self._cancelled = True
            in_flight = list(self._in_flight.values())
        for future in in_flight:
            future.cancel()
        self._queue.put(None)
        if self._dispatcher is not None:
            self._dispatcher.join()
        if self._settler is not None:
            self._settler.shutdown(wait=wait)
        with self._lock:
            client, self._client = self._client, None
            cluster, self._owned_cluster = self._owned_cluster, None
        client.close()
        if cluster is not None:
            cluster.close()

    # -- sending ------------------------------------------------------------------------------

    def _send_when_ready(self, fn, task, args, kwargs, run, done) -> None:
        from core_blocks.runtime.futures import resolve_futures

        try:
            args, kwargs = resolve_futures(args), resolve_futures(kwargs)
        except Exception as exc:
            self._refuse(task, run, exc, done)
            return
        self._send(fn, task, args, kwargs, run, done)

    def _send(self, fn, task, args, kwargs, run, done) -> None:
        from prefect_dask.packing import pack

        try:
            payload = pack((fn, task, args, kwargs), f"the arguments of task {task.name!r}")
        except Exception as exc:
            self._refuse(task, run, exc, done)
            return
        parent = _flow_context()
        meta = {"run_id": run.id, "fn_name": run.fn_name, "task_name": task.name,
                "parent_id": run.parent_id, "flow_name": run.flow_name,
                "flow_run_id": run.flow_run_id, "created": run.created,
                "log_prints": bool(parent and parent.log_prints)}
        if self._cancelled:  # the flow run was cancelled while its inputs were awaited
            self._settle_cancelled(run, done)
            return
        self._queue.put((run, payload, meta, done))

    def _refuse(self, task, run, exc: Exception, done) -> None:
        """A run that cannot be sent (a block that may not travel, a failed input) fails."""
        from core_blocks.runtime.hooks import call_hooks
        from core_blocks.runtime.run_lifecycle import failed_to_start

        state = failed_to_start(task, run, exc)
        call_hooks(task, run, state)
        self._finish(run, state, done)

    def _dispatch_loop(self) -> None:
        from core_blocks.runtime import history
        from prefect_dask.worker_runs import run_on_worker, store_identity

        while True:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            items = [item for item in batch if item is not None]
            if items:
                history.flush()  # each run's Pending is in the store before a worker looks
            stores: dict[int, Any] = {}  # id(store) -> its identity, once per batch
            sending = []
            for run, payload, meta, done in items:
                try:
                    key = id(run.store)
                    if key not in stores:  # after the flush: a new SQLite file exists now
                        stores[key] = store_identity(run.store)
                    meta["store"] = stores[key]
                except Exception as exc:
                    self._settler.submit(self._settle_lost, run, exc, done)
                    continue
                sending.append((run, payload, meta, done))
            if sending and self._cancelled:
                for run, _, _, done in sending:
                    self._settler.submit(self._settle_cancelled, run, done)
            elif sending:
                self._send_batch(run_on_worker, sending)
            if len(items) < len(batch):
                return

    def _send_batch(self, run_on_worker: Callable, batch: list[tuple]) -> None:
        """Hand a batch of runs to Dask in one graph (one message to the scheduler, not one
        per run: per-run submits cost more than the trivial tasks they send)."""
        try:
            futures = self._client.map(
                run_on_worker, [payload for _, payload, _, _ in batch],
                [meta for _, _, meta, _ in batch], pure=False,
                key=[f"{run.fn_name}-{run.id}" for run, _, _, _ in batch])
        except Exception as exc:  # the client is closed or the scheduler is gone
            for run, _, _, done in batch:
                self._settler.submit(self._settle_lost, run, exc, done)
            return
        with self._lock:
            for (run, _, _, _), future in zip(batch, futures, strict=True):
                self._in_flight[run.id] = future
        for (run, _, _, done), future in zip(batch, futures, strict=True):
            future.add_done_callback(
                lambda f, run=run, done=done: self._arrive(run, f, done))

    # -- settling -----------------------------------------------------------------------------

    def _arrive(self, run: Any, future: Any, done: concurrent.futures.Future) -> None:
        """A run's Dask future is done (called on Dask's callback thread): queue it for the
        settler, which takes every arrival queued so far at once."""
        self._arrived.put((run, future, done))
        self._settler.submit(self._settle_arrived)

    def _settle_arrived(self) -> None:
        arrived = []
        while True:
            try:
                arrived.append(self._arrived.get_nowait())
            except queue.Empty:
                break
        if not arrived:  # an earlier call took them
            return
        finished = [item for item in arrived if item[1].status == "finished"]
        reports: dict[int, Any] = {}
        if finished:
            try:  # one gather for the batch: one round trip, not one per run
                values = self._client.gather([future for _, future, _ in finished])
                reports = {id(item): value
                           for item, value in zip(finished, values, strict=True)}
            except BaseException:  # a result lost meanwhile: each is fetched on its own
                reports = {}
        for item in arrived:
            run, future, done = item
            if id(item) in reports:
                self._settle_report(run, reports[id(item)], done)
            else:
                self._settle(run, future, done)

    def _settle(self, run: Any, future: Any, done: concurrent.futures.Future) -> None:
        try:
            report = future.result()
        except BaseException as exc:  # KilledWorker, a cancelled or lost future
            if self._cancelled and future.status == "cancelled":
                self._settle_cancelled(run, done)
            else:
                self._settle_lost(run, exc, done)
            return
        self._settle_report(run, report, done)

    def _settle_report(self, run: Any, report: dict[str, Any],
                       done: concurrent.futures.Future) -> None:
        try:
            state = _mirror(run, report)
        except BaseException as exc:  # e.g. a returned block that no longer loads here
            from core_blocks.runtime.states import State, StateType

            state = run.set_state(State(StateType.FAILED, error=exc,
                                        message=run.secrets.mask(f"{type(exc).__name__}: {exc}")))
        self._finish(run, state, done)

    def _settle_cancelled(self, run: Any, done: concurrent.futures.Future) -> None:
        """End Cancelled a run its flow's cancellation stopped (as the thread pool does: an
        async task running on a worker stops too, see worker_runs.py). A sync task runs on to
        its end there, but the store keeps this Cancelled (a run's end is never replaced); a
        run whose worker recorded its end before this one keeps that end, here too."""
        import asyncio

        from core_blocks.runtime.states import State, StateType

        error = asyncio.CancelledError(f"its flow run was cancelled before task run "
                                       f"{run.name!r} finished")
        _catch_up(run)
        if run.state is not None and run.state.is_final:  # the worker's end came first
            self._finish(run, run.state, done)
            return
        self._finish(run, run.set_state(State(StateType.CANCELLED, error=error,
                                              message=f"CancelledError: {error}")), done)

    def _settle_lost(self, run: Any, exc: BaseException, done) -> None:
        from core_blocks.runtime.states import State, StateType
        from prefect_dask.errors import WorkerLostError

        error = WorkerLostError(
            f"Dask could not finish task run {run.name!r}: {type(exc).__name__}: {exc}. "
            "Its workers died or the cluster went away; see the workers' logs (memory limits "
            "kill workers), or raise distributed.scheduler.allowed-failures to retry more.")
        _catch_up(run)
        self._finish(run, run.set_state(State(StateType.CRASHED, message=str(error),
                                              error=error)), done)

    def _finish(self, run: Any, state: Any, done: concurrent.futures.Future) -> None:
        with self._lock:
            self._in_flight.pop(run.id, None)
            self._open -= 1
            if not self._open:
                self._idle.notify_all()
        done.set_result(state)


def _flow_context() -> Any:
    from core_blocks.runtime.context import current_run

    return current_run.get()


def _catch_up(run: Any) -> None:
    """Take in the states workers recorded for run, so the next state follows them."""
    from core_blocks.runtime.states import State, StateType
    from core_blocks.store import runs as stored_runs

    if run.store is None:
        return
    try:
        stored = stored_runs.run_states(run.store, run.id)
    except Exception:  # the next state may then repeat a number; the run row still ends
        return
    if len(stored) > len(run.states):
        run.states = [State(StateType(s["state"]), timestamp=s["at"], name=s["name"],
                            message=s["message"] or "") for s in stored]


def _mirror(run: Any, report: dict[str, Any]) -> Any:
    """Bring the flow's Run to the end the worker reported, recording here too each state the
    worker recorded (the same rows: the store keeps one of each), so the flow's history is
    complete when the flow ends, and this process stops counting the run as live."""
    from core_blocks.runtime.states import State, StateType
    from prefect_dask.packing import unpack

    *before, final = [State(StateType(t), timestamp=at, name=name, message=message or "")
                      for t, name, at, message in report["states"]]
    run.attempts = report["attempts"] or run.attempts
    if report["parameters"]:
        run.parameters = report["parameters"]
    run.worker = report["worker"]
    data = unpack(report["result"]) if report["result"] is not None else None
    error = unpack(report["exception"]) if report["exception"] is not None else None
    for earlier in before[len(run.states):]:  # the states the worker added, in order
        run.set_state(earlier)
    state = State(final.type, timestamp=final.timestamp, message=final.message,
                  name=final.name, data=data, error=error)
    run.set_state(state)
    kind, message, trace = report["error_fields"]
    if kind is not None:
        run.error = (kind, message, trace)
    return state
