"""Numbers JSON can store: finite ones.

Python's json reads `NaN`, `Infinity` and `1e999` as floats that no JSON document can hold:
the store would write them as null, silently. Each way into a block (the JSON type, `blocks
create --set` and `--from-json`, the web page's API) asks non_finite_at and refuses them.
"""

from __future__ import annotations

import json
import math
from typing import Any


def non_finite_at(value: Any, path: str = "") -> str | None:
    """Where the first NaN or infinite number in value is (`["rates"][2]`, "" for value
    itself) and what it is, as `NaN at ["rates"][2]`; None when every number is finite."""
    if isinstance(value, float) and not math.isfinite(value):
        shown = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return f"{shown} at {path}" if path else shown
    if isinstance(value, dict):
        items = ((f"{path}[{json.dumps(str(k))}]", v) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    return next((found for where, item in items if (found := non_finite_at(item, where))), None)


def non_finite_message(found: str) -> str:
    """The remedy for a number non_finite_at found."""
    return (f"holds {found}, which JSON cannot store (it would be saved as null); write a "
            "finite number, or null")
