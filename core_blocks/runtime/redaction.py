"""Run parameters as recorded in run history: JSON-safe, with secret values hidden."""

from __future__ import annotations

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
        return {str(k): _redact(str(k), v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_redact(name, v, depth + 1) for v in value]
    return _special(value)


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
    text = repr(value)  # pydantic secrets and Blocks keep secrets out of their reprs
    return text if len(text) <= 200 else text[:200] + "…"
