"""Run parameters as recorded in run history: JSON-safe, with secret values hidden."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

REDACTED = "**********"
# Parameter names whose values are secrets, whatever their type: e.g. password, db_passwd,
# api_key, AccessKey, SSECustomerKey, encryption_key, signing_key, client_secret, auth_token.
_SECRET_NAME = re.compile(
    r"pass(word|wd|phrase)?|secret|token|credential|auth|"
    r"(api|access|private|customer|encryption|signing|master)_?key",
    re.IGNORECASE,
)
_MAX_TEXT = 1000
_MAX_ITEMS = 100  # items of a list or dict recorded; the rest are counted


def redact_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """Parameters safe to store: secret types and secret-looking names become REDACTED."""
    return {name: _redact(name, value, 0) for name, value in parameters.items()}


def _redact(name: str, value: Any, depth: int) -> Any:
    if _SECRET_NAME.search(name) and value is not None:
        return REDACTED
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + "…"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value):,} bytes>"  # content is data, not a parameter worth a repr
    if depth > 4:
        return _short_repr(value)
    if isinstance(value, dict):
        shown = {str(k): _redact(str(k), v, depth + 1)
                 for k, v in _first(value.items(), _MAX_ITEMS)}
        if len(value) > _MAX_ITEMS:
            shown["…"] = f"{len(value) - _MAX_ITEMS:,} more"
        return shown
    if hasattr(value, "_asdict") and isinstance(value, tuple):  # a namedtuple: by field name
        return _redact(name, {"$type": type(value).__name__, **value._asdict()}, depth)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_redact(name, v, depth + 1) for v in _first(value, _MAX_ITEMS)]
        if len(value) > _MAX_ITEMS:
            items.append(f"… {len(value) - _MAX_ITEMS:,} more")
        return items
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}
        return _redact(name, {"$type": type(value).__name__, **fields}, depth)
    return _special(value)


def _first(values: Any, count: int) -> list:
    out = []
    for value in values:
        if len(out) == count:
            break
        out.append(value)
    return out


def _special(value: Any) -> Any:
    from pydantic import BaseModel, SecretBytes, SecretStr
    from pydantic.types import Secret

    if isinstance(value, (SecretStr, SecretBytes, Secret)):
        return REDACTED
    if isinstance(value, BaseModel):
        try:  # a Block's default dump already obfuscates its secret fields
            dumped = value.model_dump(mode="json")
        except Exception:
            return _short_repr(value)
        return {"$type": type(value).__name__, **_redact("", dumped, 1)}
    return _short_repr(value)


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)  # pydantic secrets and Blocks keep secrets out of their reprs
    except Exception:  # a broken __repr__ must not fail the run it describes
        return f"<{type(value).__name__}>"
    return text if len(text) <= 200 else text[:200] + "…"
