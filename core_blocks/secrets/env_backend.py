"""The `env` backend: read-only secrets from environment variables, for containers and CI.

A block's secret field is read from
`CORE_BLOCKS_SECRET__<TYPE>__<NAME>__<FIELD>`: type slug and name upper-cased with dashes
as underscores, the field name upper-cased. `secret/prod-db`'s `value` is
`CORE_BLOCKS_SECRET__SECRET__PROD_DB__VALUE`. A SecretDict field takes JSON text, a
SecretBytes field base64.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from core_blocks.errors import SecretBackendError
from core_blocks.fields import kind_named
from core_blocks.naming import split_ref
from core_blocks.secrets.base import SecretBackend

PREFIX = "CORE_BLOCKS_SECRET__"


def variable_prefix(ref: str) -> str:
    """The environment variable prefix for one block's secret fields."""
    slug, name = split_ref(ref)
    return f"{PREFIX}{slug.upper().replace('-', '_')}__{name.upper().replace('-', '_')}__"


class EnvSecretBackend(SecretBackend):
    name = "env"
    writable = False
    description = "read-only, from CORE_BLOCKS_SECRET__<TYPE>__<NAME>__<FIELD> variables"

    def read(self, key: str, ref: str) -> dict[str, Any] | None:
        prefix = variable_prefix(ref)
        values = {k[len(prefix):].lower(): v for k, v in os.environ.items()
                  if k.startswith(prefix)}
        return values or None

    def read_values(self, key: str, ref: str, kinds: Mapping[str, str]) -> dict[str, Any] | None:
        """Every secret field must have its variable: an unset one is an error naming it."""
        values = self.read(key, ref)
        if values is None:
            return None
        missing = [field for field in kinds if field not in values]
        if missing:
            raise SecretBackendError(self.missing_message(ref, missing))
        return {field: kind_named(kind).decode(_stored(kind, values[field]))
                for field, kind in kinds.items()}

    def missing_message(self, ref: str, fields: list[str]) -> str:
        names = ", ".join(variable_prefix(ref) + f.upper() for f in fields)
        return (f"The secrets of {ref} are not in the environment (CORE_BLOCKS_SECRET_BACKEND="
                f"env). Set {names}.")

    def write(self, key: str, values: dict[str, Any], ref: str) -> None:
        raise self.read_only_error(ref)

    def delete(self, key: str) -> None:
        raise self.read_only_error("this block")


def _stored(kind: str, text: str) -> Any:
    """A variable's text as the value a storing backend would hold: a dict is JSON text."""
    return json.loads(text) if kind == "dict" else text
