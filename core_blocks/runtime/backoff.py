"""Retry delay helpers."""

from __future__ import annotations

from collections.abc import Callable


def exponential_backoff(backoff_factor: float) -> Callable[[int], float]:
    """retry_delay_seconds that doubles each time: factor, 2×factor, 4×factor, …"""
    if backoff_factor < 0:
        raise ValueError(f"backoff_factor must be ≥ 0, not {backoff_factor!r}.")

    def delay(attempt: int) -> float:
        return backoff_factor * 2 ** (attempt - 1)

    delay.__name__ = f"exponential_backoff({backoff_factor})"
    return delay
