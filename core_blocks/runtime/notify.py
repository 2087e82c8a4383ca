"""notify(): a flow or task hook that sends the run's outcome through a NotificationBlock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_TEMPLATE = (
    "{kind} {name!r} run {run_name} finished in state {state} after {duration:.1f} s.{error}"
)
DEFAULT_SUBJECT = "{kind} {name!r}: {state}"
_SAMPLE = {"kind": "Flow", "name": "n", "flow_name": "f", "run_name": "r", "run_id": "i",
           "state": "Completed", "message": "", "duration": 0.0, "error": ""}


def _check(template: str, option: str) -> None:
    try:
        template.format(**_SAMPLE)
    except Exception as exc:  # KeyError, IndexError, ValueError, AttributeError, TypeError
        raise ValueError(
            f"notify() {option} {template!r} is not valid ({type(exc).__name__}: {exc}). "
            f"Use the fields {', '.join('{' + k + '}' for k in _SAMPLE)}."
        ) from None


@dataclass(frozen=True)
class RunSummary:
    """A finished run, as notify() hands it to `NotificationBlock.notify_run`.

    `body` and `subject` are the rendered templates (what `notify(body, subject)` would get);
    the other fields let a notifier lay the message out itself (a Slack Block Kit card).
    `error` is "Type: message" of a failed run (secret values masked) and "" otherwise.
    """

    kind: str  # "Flow" or "Task"
    name: str
    flow_name: str
    run_name: str
    run_id: str
    state: str
    message: str
    duration: float  # seconds
    error: str
    body: str
    subject: str


def message_fields(obj: Any, run: Any, state: Any) -> dict[str, Any]:
    error = f" Error: {state.message}" if state.error is not None else ""
    return {"kind": obj.kind.capitalize(), "name": obj.name,
            "flow_name": run.flow_name or obj.name, "run_name": run.name, "run_id": run.id,
            "state": state.name, "message": state.message, "duration": run.duration,
            "error": error}


def notify(block: str | Any, template: str = DEFAULT_TEMPLATE,
           subject: str = DEFAULT_SUBJECT) -> Callable[[Any, Any, Any], None]:
    """A hook for on_completion / on_failure / on_crashed that sends a message.

    `block` is a NotificationBlock or its "type-slug/name"; it is loaded when the hook runs,
    so a rotated webhook secret is picked up. Template fields: kind, name, flow_name, run_name,
    run_id, state, message, duration (seconds), error. The hook calls the notifier's
    `notify_run(RunSummary)`, which by default sends the filled templates with `notify()`.
    """
    _check(template, "template")
    _check(subject, "subject")

    def hook(obj: Any, run: Any, state: Any) -> None:
        from core_blocks.abstract import NotificationBlock
        from core_blocks.block import Block

        notifier = Block.load(block) if isinstance(block, str) else block
        if not isinstance(notifier, NotificationBlock):
            raise TypeError(f"notify() needs a NotificationBlock; {block!r} is a "
                            f"{type(notifier).__name__}.")
        fields = message_fields(obj, run, state)
        summary = RunSummary(
            **{k: v for k, v in fields.items() if k != "error"},
            error=state.message if state.error is not None else "",
            body=template.format(**fields), subject=subject.format(**fields))
        notifier.notify_run(summary)

    hook.__name__ = f"notify({block if isinstance(block, str) else type(block).__name__})"
    return hook
