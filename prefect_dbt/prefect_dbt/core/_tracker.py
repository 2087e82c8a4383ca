"""NodeTaskTracker: what PrefectDbtRunner knows about each dbt node while a command runs —
dbt's status event, the node's run (its name, id and final state) and its upstream nodes —
kept safe for the dbt callback thread and the threads that record the node runs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def serialize_context() -> dict[str, Any]:
    """Where the caller runs, to hand to other threads: {} outside any run; within one,
    "run_context" (the core_blocks RunContext, for hydrated_context), "flow_run_context"
    ({"flow_run": {"id", "name"}, "flow": an object with .name}) when a flow run encloses
    it, and "task_run_context" ({"task_run": {"id", "name"}}) inside a task run, the keys
    Prefect's serialized context has."""
    from types import SimpleNamespace

    from core_blocks.runtime.context import get_run_context

    run_context = get_run_context()
    if run_context is None:
        return {}
    context: dict[str, Any] = {"run_context": run_context}
    flow_run = run_context.flow_run
    if flow_run is not None:
        context["flow_run_context"] = {
            "flow_run": {"id": flow_run.id, "name": flow_run.name},
            "flow": SimpleNamespace(name=flow_run.flow_name or flow_run.fn_name)}
    if run_context.run.kind == "task":
        context["task_run_context"] = {"task_run": {"id": run_context.run.id,
                                                    "name": run_context.run.name}}
    return context


@contextmanager
def hydrated_context(context: dict[str, Any] | None) -> Iterator[Any]:
    """Inside the block, this thread runs within the run `context["run_context"]` (as
    serialize_context() gave it), so node runs it records are children of that run; without
    one, runs are recorded as top-level runs. Yields the run context (or None)."""
    from core_blocks.runtime.context import current_run

    run_context = (context or {}).get("run_context")
    token = current_run.set(run_context) if run_context is not None else None
    try:
        yield run_context
    finally:
        if token is not None:
            current_run.reset(token)


def run_task_sync(task: Any, task_run_id: Any = None, parameters: dict[str, Any] | None = None,
                  wait_for: list[Any] | None = None, context: dict[str, Any] | None = None,
                  return_type: str = "state") -> Any:
    """Run a core_blocks task once with `parameters`; its final State (or, with
    return_type="result", its return value). `wait_for` holds upstream nodes' states, already
    final when the tracker calls this; `task_run_id` and `context` are accepted for Prefect's
    signature (the run gets its own id, and the context is entered by the caller)."""
    state = task(**(parameters or {}), return_state=True)
    return state if return_type == "state" else state.result()


class NodeTaskTracker:
    """Per dbt node: its run's task, dbt's status event, its upstream nodes, its run's id,
    name and final state, and an event set when dbt reports the node finished.

        tracker = NodeTaskTracker()
        tracker.set_node_status("model.shop.orders", {"status": "success"}, "done")
        tracker.is_node_complete("model.shop.orders")  # True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[str, Any] = {}
        self._task_results: dict[str, Any] = {}
        self._node_status: dict[str, dict[str, Any]] = {}
        self._node_complete: dict[str, bool] = {}
        self._node_dependencies: dict[str, list[str]] = {}
        self._node_events: dict[str, threading.Event] = {}
        self._task_run_ids: dict[str, Any] = {}
        self._task_run_names: dict[str, str] = {}
        self._threads: dict[str, threading.Thread] = {}

    def __repr__(self) -> str:  # a node run's parameters show it in the run history
        return f"NodeTaskTracker(nodes={len(self._tasks)})"

    def _event(self, node_id: str) -> threading.Event:
        with self._lock:
            return self._node_events.setdefault(node_id, threading.Event())

    def start_task(self, node_id: str, task: Any) -> None:
        """Note that `node_id` started, with `task` recording its run."""
        self._event(node_id)
        with self._lock:
            self._tasks[node_id] = task
            self._node_complete.setdefault(node_id, False)  # dbt may have reported it already

    def get_task(self, node_id: str) -> Any:
        """The task recording `node_id`'s run (None before start_task)."""
        return self._tasks.get(node_id)

    def set_node_status(self, node_id: str, event_data: dict[str, Any],
                        event_message: str) -> None:
        """Keep dbt's finishing event for `node_id`, and wake whoever waits for it."""
        with self._lock:
            self._node_status[node_id] = {"event_data": event_data,
                                          "event_message": event_message}
            self._node_complete[node_id] = True
        self._event(node_id).set()

    def get_node_status(self, node_id: str) -> dict[str, Any] | None:
        """{"event_data": ..., "event_message": ...} once dbt reported the node, else None."""
        return self._node_status.get(node_id)

    def is_node_complete(self, node_id: str) -> bool:
        return self._node_complete.get(node_id, False)

    def wait_for_node_completion(self, node_id: str, timeout: float | None = None) -> bool:
        """Block until dbt reports `node_id` finished; False if `timeout` seconds pass first."""
        return self._event(node_id).wait(timeout)

    def set_task_result(self, node_id: str, result: Any) -> None:
        self._task_results[node_id] = result

    def get_task_result(self, node_id: str) -> Any:
        """The final state of the node's run, once recorded, else None."""
        return self._task_results.get(node_id)

    def set_node_dependencies(self, node_id: str, dependencies: list[str]) -> None:
        self._node_dependencies[node_id] = dependencies

    def get_node_dependencies(self, node_id: str) -> list[str]:
        """The unique ids of the nodes `node_id` depends on (none when unknown)."""
        return self._node_dependencies.get(node_id, [])

    def set_task_run_id(self, node_id: str, task_run_id: Any) -> None:
        self._task_run_ids[node_id] = task_run_id

    def get_task_run_id(self, node_id: str) -> Any:
        return self._task_run_ids.get(node_id)

    def set_task_run_name(self, node_id: str, task_run_name: str) -> None:
        self._task_run_names[node_id] = task_run_name

    def get_task_run_name(self, node_id: str) -> str | None:
        return self._task_run_names.get(node_id)

    def get_task_logger(self, node_id: str, flow_run: dict[str, Any] | None = None,
                        flow: Any = None, **kwargs: Any) -> logging.LoggerAdapter:
        """A logger for the node's run: the run log's logger (core_blocks.runs) with the
        node's run and its flow named in each record's extras."""
        extra = {
            "task_run_id": self.get_task_run_id(node_id),
            "task_run_name": self.get_task_run_name(node_id),
            "task_name": "execute_dbt_node",
            "flow_run_id": flow_run["id"] if flow_run else "<unknown>",
            "flow_run_name": flow_run["name"] if flow_run else "<unknown>",
            "flow_name": flow.name if flow else "<unknown>",
            **kwargs,
        }
        return logging.LoggerAdapter(logging.getLogger("core_blocks.runs"), extra)

    def run_task_in_thread(self, node_id: str, task: Any, task_run_id: Any,
                           parameters: dict[str, Any], context: dict[str, Any]
                           ) -> threading.Thread:
        """Record the node's run on a daemon thread, within `context`, after the states of
        its upstream nodes; the final state is kept as the node's task result. Returns the
        thread, for a caller that waits for it."""

        def record() -> None:
            with hydrated_context(context):
                upstream = [s for s in map(self.get_task_result,
                                           self.get_node_dependencies(node_id)) if s]
                state = run_task_sync(task, task_run_id=task_run_id, parameters=parameters,
                                      wait_for=upstream, context=context,
                                      return_type="state")
                self.set_task_result(node_id, state or None)

        thread = threading.Thread(target=record, name=f"dbt-node-{node_id}", daemon=True)
        with self._lock:
            self._threads[node_id] = thread
        thread.start()
        return thread

    def unfinished_nodes(self) -> list[str]:
        """Nodes started whose end dbt never reported (dbt stopped before reaching it)."""
        with self._lock:
            return [node for node in self._tasks if not self._node_complete.get(node)]

    def wait_for_tasks(self, timeout: float | None = None) -> None:
        """Block until every node run started on a thread has ended (each within `timeout`
        seconds)."""
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)
