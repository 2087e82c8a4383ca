"""Pull and push progress: one bar per transfer on an interactive terminal, nothing in CI logs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from core_blocks.terminal import progress_enabled


class LayerTotals:
    """Bytes done and expected across an image's layers, from the engine's progress events."""

    def __init__(self) -> None:
        self.layers: dict[str, tuple[int, int]] = {}

    def update(self, event: dict[str, Any]) -> tuple[int, int] | None:
        """Fold one event in; (done, total) over all layers when it carried progress."""
        detail = event.get("progressDetail") or {}
        layer = event.get("id")
        if not layer or "current" not in detail:
            return None
        self.layers[layer] = (int(detail["current"]), int(detail.get("total") or 0))
        return (sum(done for done, _ in self.layers.values()),
                sum(total for _, total in self.layers.values()))


@contextmanager
def progress(description: str) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A function to feed every progress event to; it draws a rich bar on a terminal only."""
    if not progress_enabled():
        yield lambda event: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    totals = LayerTotals()
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task_id = bar.add_task(description, total=None)

        def feed(event: dict[str, Any]) -> None:
            sums = totals.update(event)
            if sums:
                bar.update(task_id, completed=sums[0], total=sums[1] or None)

        yield feed
