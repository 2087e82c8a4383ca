"""Task.map: one set of call arguments per item of the iterable arguments."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class unmapped:  # noqa: N801  (used like a function, as in the other tools users know)
    """Pass a value to every mapped run as it is, even if it is iterable."""

    def __init__(self, value: Any):
        self.value = value


def _mapped(value: Any) -> bool:
    return (isinstance(value, Iterable) and not isinstance(value, unmapped)
            and not isinstance(value, (str, bytes, bytearray, Mapping)))


def expand(name: str, args: tuple, kwargs: dict) -> list[tuple[tuple, dict]]:
    """The call arguments of each mapped run; strings, bytes and dicts count as constants."""
    args = tuple(list(a) if _mapped(a) else a for a in args)
    kwargs = {k: list(v) if _mapped(v) else v for k, v in kwargs.items()}
    lengths = {len(v) for v in (*args, *kwargs.values()) if isinstance(v, list)}
    if not lengths:
        raise ValueError(
            f"Task {name!r}.map() needs at least one iterable argument; wrap constants in "
            "unmapped(...) and pass lists for the values to map over."
        )
    if len(lengths) > 1:
        raise ValueError(
            f"Task {name!r}.map() got iterables of different lengths {sorted(lengths)}; give "
            "them one length, or wrap the constant ones in unmapped(...)."
        )
    (count,) = lengths

    def pick(value: Any, i: int) -> Any:
        if isinstance(value, unmapped):
            return value.value
        return value[i] if isinstance(value, list) else value

    return [(tuple(pick(a, i) for a in args), {k: pick(v, i) for k, v in kwargs.items()})
            for i in range(count)]
