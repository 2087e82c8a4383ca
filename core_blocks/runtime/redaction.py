"""Run parameters and errors as recorded in run history: JSON-safe, with secret values hidden.

Three rules: values under secret-looking names are hidden whatever their type; secret types
(pydantic's and Blocks' secret fields) are hidden; blocks are recorded by their "type/name".
The secret values a run received (and every value read from a secret backend, see
core_blocks.secret_values) are also masked in its error message and traceback.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import os
import re
import uuid
from typing import Any

from core_blocks.secret_values import MASK, MIN_MASKED_LENGTH, SecretValues, mask_forms

__all__ = ["MIN_MASKED_LENGTH", "REDACTED", "SecretValues", "mask_texts", "redact_parameters",
           "secret_name"]

REDACTED = MASK
# Secret-looking words, matched in a name normalised to lower_snake_case (see secret_name):
# password, db_passwd, api_key, x_api_key, private_key, sse_customer_key, client_secret,
# auth_token, proxy_authorization, set_cookie; whole words only for the short ones (pwd, dsn,
# jwt: not `pwdx`), and the names of connection strings, which carry their password.
_SECRET_WORDS = re.compile(
    r"pass(word|wd|phrase)?|secret|token|credential|auth|cookie|"
    r"(api|access|private|customer|encryption|signing|master|ssh|client|account|hmac)_?key|"
    r"(^|_)(pwd|dsn|jwt)(_|$)|conn(ection)?_?str(ing)?|(^|_)(database|db)_?ur[il]|"
    r"webhook_?ur[il]"
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[\s\-_.]+")
_MAX_TEXT = 1000
_MAX_ITEMS = 100  # items of a list or dict recorded; the rest are counted
_MAX_DEPTH = 4


@functools.lru_cache(maxsize=4096)
def secret_name(name: str) -> bool:
    """Whether a parameter, key or header name looks like it holds a secret.

    Case, `-`, `_`, `.`, spaces and camelCase do not matter: `X-Api-Key`, `x_api_key`,
    `xApiKey` and `X API KEY` are one name.

        >>> secret_name("Proxy-Authorization"), secret_name("StorageClass")
        (True, False)
    """
    words = _SEPARATORS.sub("_", _CAMEL.sub("_", name)).lower()
    return _SECRET_WORDS.search(words) is not None


def redact_parameters(parameters: dict[str, Any], secrets: set[str | bytes] | None = None
                      ) -> dict[str, Any]:
    """Parameters safe to store: secret types and secret-looking names become REDACTED,
    saved blocks their "type-slug/name".

    The secret values hidden (block secret fields at any depth of nested blocks included)
    are added to `secrets`, if given, so the run's error text can be masked with them; one
    walk does both.
    """
    found = set() if secrets is None else secrets
    return {name: _redact(name, value, 0, found) for name, value in parameters.items()}


def mask_texts(value: Any, secrets: SecretValues) -> Any:
    """Redacted parameters with every known secret masked in their text (keys included): a
    secret read from a backend may be passed on under an innocent name, inside a URL."""
    forms = secrets.forms()
    return _mask_texts(value, forms) if forms else value


def _mask_texts(value: Any, forms: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return mask_forms(value, forms)
    if isinstance(value, dict):
        return {mask_forms(k, forms): _mask_texts(v, forms) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_texts(v, forms) for v in value]
    return value


def _redact(name: str, value: Any, depth: int, found: set[str | bytes]) -> Any:
    if value is not None and secret_name(name):
        _collect_plain(value, found, 0)
        return REDACTED
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + "…"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value):,} bytes>"  # content is data, not a parameter worth a repr
    if depth > _MAX_DEPTH:
        return _short_repr(value)
    if isinstance(value, dict):
        shown = {str(k): _redact(str(k), v, depth + 1, found)
                 for k, v in _first(value.items(), _MAX_ITEMS)}
        if len(value) > _MAX_ITEMS:
            shown["…"] = f"{len(value) - _MAX_ITEMS:,} more"
        return shown
    if hasattr(value, "_asdict") and isinstance(value, tuple):  # a namedtuple: by field name
        return _redact(name, {"$type": type(value).__name__, **value._asdict()}, depth, found)
    if _is_secret_pair(value):  # ("Authorization", "Bearer …"), as header lists hold them
        _collect_plain(value[1], found, 0)
        return [value[0], REDACTED]
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_redact(name, v, depth + 1, found) for v in _first(value, _MAX_ITEMS)]
        if len(value) > _MAX_ITEMS:
            items.append(f"… {len(value) - _MAX_ITEMS:,} more")
        return items
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}
        return _redact(name, {"$type": type(value).__name__, **fields}, depth, found)
    return _special(value, depth, found)


def _is_secret_pair(value: Any) -> bool:
    return (isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[0], str)
            and value[1] is not None and secret_name(value[0]))


def _first(values: Any, count: int) -> list:
    out = []
    for value in values:
        if len(out) == count:
            break
        out.append(value)
    return out


def _special(value: Any, depth: int, found: set[str | bytes]) -> Any:
    from core_blocks.block import Block

    text = _as_text(value)
    if text is not None:
        return text
    base_model, secret_types = _pydantic_types()
    if isinstance(value, secret_types):
        _collect_plain(value.get_secret_value(), found, 0)
        return REDACTED
    if isinstance(value, base_model):
        # Secret fields, at any depth of nested models and blocks, for masking error text.
        _collect("", value, found, 0, set())
        if isinstance(value, Block):
            return _block(value, depth, found)
        try:
            dumped = value.model_dump(mode="json")  # pydantic's secrets dump as ********
        except Exception:
            return _short_repr(value)
        return {"$type": type(value).__name__, **_redact("", dumped, depth + 1, found)}
    return _short_repr(value)


def _as_text(value: Any) -> str | None:
    """Common values as a person writes them (a path, not PosixPath('…')); None for others.

    Only reached for values under names that do not look secret: those are hidden first.
    """
    if isinstance(value, os.PathLike):
        path = os.fspath(value)
        return path.decode("utf-8", "replace") if isinstance(path, bytes) else path
    if isinstance(value, (datetime.date, datetime.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return f"{value.total_seconds():g} s"
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    return None


def _block(block: Any, depth: int, found: set[str | bytes]) -> Any:
    """A saved block as its "type-slug/name"; an unsaved one as its type and its fields, with
    secret fields REDACTED and nested blocks recorded the same way."""
    if block.saved_ref is not None:
        return block.saved_ref
    try:
        dumped = block.model_dump(mode="json")  # secret fields come out obfuscated
    except Exception:
        return f"<unsaved {block._block_type_slug}>"
    from core_blocks.block import Block, secret_fields

    secrets = secret_fields(type(block))
    shown: dict[str, Any] = {"$block": f"<unsaved {block._block_type_slug}>"}
    for field, dumped_value in dumped.items():
        value = getattr(block, field, None)
        if field in secrets and value is not None:
            shown[field] = REDACTED
        elif isinstance(value, Block):
            shown[field] = (_block(value, depth + 1, found) if depth < _MAX_DEPTH
                            else _short_repr(value))
        else:
            shown[field] = _redact(field, dumped_value, depth + 1, found)
    return shown


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)  # pydantic secrets and Blocks keep secrets out of their reprs
    except Exception:  # a broken __repr__ must not fail the run it describes
        return f"<{type(value).__name__}>"
    return text if len(text) <= 200 else text[:200] + "…"


# -- secret values in error text ------------------------------------------------------------


@functools.cache
def _pydantic_types() -> tuple[type, tuple[type, ...]]:
    """BaseModel and the secret types, imported once (a per-call import costs microseconds
    through pydantic's lazy module attributes)."""
    from pydantic import BaseModel, SecretBytes, SecretStr
    from pydantic.types import Secret

    return BaseModel, (SecretStr, SecretBytes, Secret)


def _collect(name: str, value: Any, found: set[str | bytes], depth: int, seen: set[int]) -> None:
    if value is None or isinstance(value, (bool, int, float)) or depth > 2 * _MAX_DEPTH:
        return
    if isinstance(value, (str, bytes)):
        if secret_name(name):
            _collect_plain(value, found, depth)
        return
    base_model, secret_types = _pydantic_types()
    if isinstance(value, secret_types):
        _collect_plain(value.get_secret_value(), found, depth)
    elif id(value) in seen:
        return
    elif isinstance(value, dict):
        seen.add(id(value))
        for key, item in _first(value.items(), _MAX_ITEMS):
            _collect(str(key), item, found, depth + 1, seen)
    elif isinstance(value, (list, tuple, set, frozenset)):
        seen.add(id(value))
        if _is_secret_pair(value):
            _collect_plain(value[1], found, depth)
        for item in _first(value, _MAX_ITEMS):
            _collect(name, item, found, depth + 1, seen)
    elif isinstance(value, base_model):
        seen.add(id(value))
        for field in type(value).model_fields:
            _collect(field, getattr(value, field, None), found, depth + 1, seen)


def _collect_plain(value: Any, found: set[str | bytes], depth: int) -> None:
    if depth > 2 * _MAX_DEPTH:  # also ends a dict or list that contains itself
        return
    if isinstance(value, _pydantic_types()[1]):  # a SecretStr under a secret-looking name
        value = value.get_secret_value()
    if isinstance(value, (str, bytes)):  # masked in every form (see masked_forms)
        found.add(value)
    elif isinstance(value, _pydantic_types()[0]):  # a block or model under a secret name
        _collect("", value, found, depth, set())
    elif isinstance(value, dict):  # a SecretDict: every value is secret
        for item in _first(value.values(), _MAX_ITEMS):
            _collect_plain(item, found, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in _first(value, _MAX_ITEMS):
            _collect_plain(item, found, depth + 1)
