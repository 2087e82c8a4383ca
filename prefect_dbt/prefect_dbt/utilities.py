"""Prefect's `prefect_dbt.utilities`, the same names: where profiles.yml is, dbt options as
command-line arguments, and relation names as display names and asset keys.

    >>> from prefect_dbt.utilities import kwargs_to_args
    >>> kwargs_to_args({"select": ["orders"], "full_refresh": True}, ["build"])
    ['build', '--select', 'orders', '--full-refresh']
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

# Prefect's rules for an asset key (prefect.types.names), so keys made here are valid there.
MAX_ASSET_KEY_LENGTH = 512
RESTRICTED_ASSET_CHARACTERS = ("\n", "\r", "\t", "\x00", " ", "#", "?", "&", "%", '"', "'",
                               "<", ">", "[", "]", "{", "}", "|", "\\", "^", "`")
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")


def find_profiles_dir() -> Path:
    """The folder holding profiles.yml: the current one if it has one, else ~/.dbt."""
    cwd = Path.cwd()
    return cwd if (cwd / "profiles.yml").exists() else Path.home() / ".dbt"


def replace_with_env_var_call(placeholder: str, value: Any) -> str:
    """Put `value` (as text) in this process's environment under a name made of
    `placeholder` (`my-db.host` -> `MY_DB_HOST`) and return the dbt template reading it:
    `{{ env_var('MY_DB_HOST') }}`. Keeps a value out of a profiles.yml written to disk;
    it is then in the environment, which child processes inherit."""
    name = _NOT_WORD.sub("_", placeholder).strip("_").upper()
    os.environ[name] = str(value)
    return f"{{{{ env_var('{name}') }}}}"


def format_asset_name(relation_name: str) -> str:
    """A relation's display name: its quotes removed (`"DB"."S"."T"` -> `DB.S.T`)."""
    return relation_name.replace('"', "").replace("`", "")


def format_resource_id(adapter_type: str, relation_name: str) -> str:
    """A relation as an asset key, `<adapter>://db/schema/table`: quotes and the characters
    an asset key may not hold removed, cut to MAX_ASSET_KEY_LENGTH."""
    path = relation_name.replace('"', "").replace(".", "/")
    for char in RESTRICTED_ASSET_CHARACTERS:
        path = path.replace(char, "")
    return f"{adapter_type}://{path}"[:MAX_ASSET_KEY_LENGTH]


def kwargs_to_args(kwargs: dict[str, Any], args: list[str] | None = None) -> list[str]:
    """dbt options given as keywords (`select=["a"]`, `full_refresh=True`) as command-line
    arguments after `args`; an option `args` already has wins. True becomes `--flag`, False
    `--no-flag`, a list its values after the flag; None values are left out. The options
    used are removed from `kwargs` (what is left is not an option)."""
    given: list[str] = []
    for key in list(kwargs):
        value = kwargs[key]
        if value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            given.append(flag if value else "--no-" + key.replace("_", "-"))
        elif isinstance(value, (list, tuple)):
            given += [flag, *map(str, value)]
        else:
            given += [flag, str(value)]
        del kwargs[key]
    existing, positional = _flag_groups(args or [])
    added, _ = _flag_groups(given)
    result = list(positional)
    for flag, values in [*existing.items(),
                         *((f, v) for f, v in added.items() if f not in existing)]:
        result += [flag, *values]
    return result


def _flag_groups(args: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """`args` as {--flag: its values} and the positional arguments before the first flag."""
    groups: dict[str, list[str]] = {}
    positional: list[str] = []
    flag = None
    for arg in args:
        if arg.startswith("--"):
            flag = arg
            groups[flag] = []
        elif flag is None:
            positional.append(arg)
        else:
            groups[flag].append(arg)
    return groups, positional
