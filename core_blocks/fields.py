"""Secret field types beyond pydantic's own SecretStr and SecretBytes."""

from typing import Any

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


SECRET_TYPES = (SecretStr, SecretBytes, SecretDict)


def secret_kind(value: Any) -> "str | None":
    """'str', 'bytes' or 'dict' for a secret value, None for anything else."""
    if isinstance(value, SecretStr):
        return "str"
    if isinstance(value, SecretBytes):
        return "bytes"
    if isinstance(value, SecretDict):
        return "dict"
    return None
