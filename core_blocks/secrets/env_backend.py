"""The `env` backend: read-only secrets from environment variables, for containers and CI.

A block's secret field is read from
`CORE_BLOCKS_SECRET__<TYPE>__<NAME>__<FIELD>`: type slug and name upper-cased with dashes
as underscores, the field name upper-cased. `secret/prod-db`'s `value` is
`CORE_BLOCKS_SECRET__SECRET__PROD_DB__VALUE`. A SecretDict field takes JSON text, a
SecretBytes field base64.
"""

from __future__ import annotations

import os
from typing import Any

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

    def missing_message(self, ref: str, fields: list[str]) -> str:
        names = ", ".join(variable_prefix(ref) + f.upper() for f in fields)
        return (f"The secrets of {ref} are not in the environment (CORE_BLOCKS_SECRET_BACKEND="
                f"env). Set {names}.")

    def write(self, key: str, values: dict[str, Any], ref: str) -> None:
        raise self.read_only_error(ref)

    def delete(self, key: str) -> None:
        raise self.read_only_error("this block")
