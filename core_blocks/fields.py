"""Secret field types, the one table of secret kinds, and reading field annotations.

A secret field is of one of three kinds. Each row of `SECRET_KINDS` names the pydantic type,
the kind's name (recorded in a saved document's `$secrets`) and how its plain value is stored
in a secret backend and read back: a JSON value, bytes as base64 text.
"""

import base64
import types
import typing
from collections.abc import Callable
from typing import Any, NamedTuple

from pydantic import GetJsonSchemaHandler, Secret, SecretBytes, SecretStr
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema


class SecretDict(Secret[dict[str, Any]]):
    """A dict whose values are all secret: headers, key files, connection options.

    Shown as `SecretDict('**********')`; `get_secret_value()` returns the dict.

        >>> SecretDict({"Authorization": "Bearer x"})
        SecretDict('**********')
    """

    def _display(self) -> str:
        return "**********"

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update({"type": "object", "writeOnly": True, "format": "password"})
        json_schema.pop("default", None)
        return json_schema


class SecretKind(NamedTuple):
    """One kind of secret field: its pydantic type, its name, and its stored form.

    `encode` turns the plain value (`get_secret_value()`) into what a backend stores, a JSON
    value; `decode` turns that back into the plain value.
    """

    type: type
    name: str
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _bytes_from_text(stored: Any) -> Any:
    return base64.b64decode(stored) if isinstance(stored, str) else stored


SECRET_KINDS = (
    SecretKind(SecretStr, "str", _same, _same),
    SecretKind(SecretBytes, "bytes", lambda value: base64.b64encode(value).decode(),
               _bytes_from_text),
    SecretKind(SecretDict, "dict", _same, _same),
)
SECRET_TYPES = tuple(kind.type for kind in SECRET_KINDS)
_BY_NAME = {kind.name: kind for kind in SECRET_KINDS}


def kind_of(value: Any) -> "SecretKind | None":
    """The kind of a secret value (a SecretStr, SecretBytes or SecretDict), None otherwise."""
    for kind in SECRET_KINDS:
        if isinstance(value, kind.type):
            return kind
    return None


def kind_of_type(annotation: Any) -> "SecretKind | None":
    """The kind whose type annotation is (or subclasses), None for any other annotation."""
    if isinstance(annotation, type):
        for kind in SECRET_KINDS:
            if issubclass(annotation, kind.type):
                return kind
    return None


def kind_named(name: str) -> SecretKind:
    """The kind recorded as name ('str', 'bytes' or 'dict') in a saved document."""
    return _BY_NAME[name]


def secret_kind(value: Any) -> "str | None":
    """'str', 'bytes' or 'dict' for a secret value, None for anything else."""
    kind = kind_of(value)
    return None if kind is None else kind.name


def annotation_args(annotation: Any) -> tuple[Any, ...]:
    """The types a field annotation accepts: Optional/Union members (None dropped), Annotated
    unwrapped. `annotation_args(int | None)` is `(int,)`."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return tuple(a for a in typing.get_args(annotation) if a is not type(None))
    if origin is typing.Annotated:
        return annotation_args(typing.get_args(annotation)[0])
    return (annotation,)
