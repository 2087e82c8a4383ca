"""PrefectDbtSettings: the project, profiles and log level PrefectDbtRunner runs dbt with,
from DBT_-prefixed environment variables or as given; and profiles.yml with blocks filled in."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from prefect_dbt.errors import DbtConfigError


class LogLevel(str, Enum):
    """dbt's EventLevel (and equal to it: `LogLevel.INFO == EventLevel.INFO`), without
    importing dbt; NONE keeps dbt's lines out of the run log altogether."""

    DEBUG = "debug"
    TEST = "test"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"
    NONE = "none"


# The logging module's level names, as dbt names them
_FROM_LOGGING = {"DEBUG": "debug", "INFO": "info", "WARNING": "warn", "WARN": "warn",
                 "ERROR": "error", "CRITICAL": "error"}
# {{ prefect.blocks.<type-slug>.<name>.<field>[.<field>...] }} and {{ prefect.variables.<x> }}
_REFERENCE = re.compile(r"\{\{\s*prefect\.(blocks|variables)\.([\w.-]+?)\s*\}\}")


def _profiles_dir() -> Path:
    """dbt's own rule: DBT_PROFILES_DIR, else the current folder if it holds profiles.yml,
    else ~/.dbt."""
    if os.environ.get("DBT_PROFILES_DIR"):
        return Path(os.environ["DBT_PROFILES_DIR"])
    if Path("profiles.yml").exists():
        return Path.cwd()
    return Path.home() / ".dbt"


def get_current_settings() -> SimpleNamespace:
    """The runtime settings the defaults below read, shaped as Prefect's (`.logging.level`):
    the run logger's own level (core_blocks.runs), INFO when it has none set."""
    level = logging.getLogger("core_blocks.runs").level or logging.INFO
    return SimpleNamespace(logging=SimpleNamespace(level=logging.getLevelName(level)))


def _default_log_level() -> Any:
    """DBT_LOG_LEVEL, else the run logger's level as dbt names it."""
    if os.environ.get("DBT_LOG_LEVEL"):
        return os.environ["DBT_LOG_LEVEL"]
    level = str(get_current_settings().logging.level).upper()
    return _FROM_LOGGING.get(level, level.lower())


class PrefectDbtSettings(BaseModel):
    """Where dbt finds the project and profiles.yml, and how much of its log to keep.

    Each field defaults to its DBT_ environment variable (DBT_PROJECT_DIR, DBT_PROFILES_DIR,
    DBT_LOG_LEVEL, DBT_TARGET_PATH), else dbt's own default; the log level's default is the
    run logger's level (INFO unless set).

        >>> PrefectDbtSettings(project_dir="shop", profiles_dir="shop").project_dir
        PosixPath('shop')
    """

    model_config = ConfigDict(validate_assignment=True, validate_default=True)

    profiles_dir: Path = Field(default_factory=_profiles_dir,
                               description="Folder holding profiles.yml")
    project_dir: Path = Field(
        default_factory=lambda: Path(os.environ.get("DBT_PROJECT_DIR") or Path.cwd()),
        description="Folder holding dbt_project.yml")
    log_level: LogLevel = Field(
        default_factory=_default_log_level,
        description="dbt log lines below this level (debug, test, info, warn, error, none) are "
                    "left out of the run's log; dbt's EventLevel is taken too")
    target_path: Path = Field(
        default_factory=lambda: Path(os.environ.get("DBT_TARGET_PATH", "target")),
        description="dbt's target folder, relative to project_dir")

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> LogLevel:
        try:
            return LogLevel(str(getattr(value, "value", value)).lower())
        except ValueError:
            raise ValueError("Input should be 'debug', 'test', 'info', 'warn' or 'error' "
                             f"(dbt's EventLevel), or 'none' to keep dbt's lines out; "
                             f"got {value!r}. Set log_level or DBT_LOG_LEVEL to one of them."
                             ) from None

    def validate_for_orchestrator(self) -> None:
        """Check that profiles_dir holds profiles.yml and project_dir dbt_project.yml,
        raising DbtConfigError (a ValueError) that names the missing one and the fix."""
        for field, folder, name in (("profiles_dir", self.profiles_dir, "profiles.yml"),
                                    ("project_dir", self.project_dir, "dbt_project.yml")):
            fix = (f"Pass {field} explicitly to PrefectDbtSettings (or set "
                   f"DBT_{field.upper()}) to the folder holding {name}.")
            if not folder.is_dir():
                raise DbtConfigError(f'{field} "{folder}" does not exist. {fix}')
            if not (folder / name).is_file():
                raise DbtConfigError(f"No {name} found in {field} {str(folder)!r}. {fix}")

    def load_profiles_yml(self) -> dict[str, Any] | None:
        """profiles.yml as a dict (None when the file is empty)."""
        import yaml

        path = self.profiles_dir / "profiles.yml"
        if not path.exists():
            raise DbtConfigError(f"No profiles.yml in {str(self.profiles_dir)!r}: set "
                                 "profiles_dir (or DBT_PROFILES_DIR) to the folder holding it.")
        return yaml.safe_load(path.read_text())

    @contextmanager
    def resolve_profiles_yml(self) -> Iterator[str]:
        """A private temporary folder (removed afterwards) holding profiles.yml with every
        `{{ prefect.blocks.<type-slug>.<name>.<field> }}` replaced by that saved block's
        field (secret fields revealed, the file readable by you only), as Prefect's
        templating does; dbt's own Jinja (`env_var`) is left to dbt."""
        import yaml

        profiles = _resolve(self.load_profiles_yml() or {})
        folder = Path(tempfile.mkdtemp(prefix="core-blocks-dbt-"))  # mode 0700
        try:
            path = folder / "profiles.yml"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                yaml.safe_dump(profiles, handle, sort_keys=False)
            yield str(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _resolve(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _resolve(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item) for item in value]
    if not isinstance(value, str):
        return value
    whole = _REFERENCE.fullmatch(value.strip())
    if whole:  # the whole value: keep the field's type (a port stays a number)
        return _reference(whole.group(1), whole.group(2))
    return _REFERENCE.sub(lambda m: str(_reference(m.group(1), m.group(2))), value)


def _reference(kind: str, path: str) -> Any:
    from core_blocks import Block

    if kind == "variables":
        raise DbtConfigError(
            f"profiles.yml refers to prefect.variables.{path}: core-blocks has no variables. "
            "Save the value as a block (String or Secret) and write "
            "{{ prefect.blocks.string.<name>.value }}, or use dbt's env_var().")
    parts = path.split(".")
    if len(parts) < 2:
        raise DbtConfigError(
            f"profiles.yml refers to prefect.blocks.{path}: write "
            "prefect.blocks.<type-slug>.<block-name>.<field>, e.g. "
            "prefect.blocks.secret.warehouse-password.value.")
    # _sync: resolve_profiles_yml is sync, and may be called from async code (an async flow)
    value: Any = Block.load(f"{parts[0]}/{parts[1]}", _sync=True)
    # Without a field, as in Prefect's templates: a single-value block's value
    # (`prefect.blocks.secret.warehouse-password`)
    for field in parts[2:] or ["value"]:
        value = value.get(field) if isinstance(value, dict) else getattr(value, field, None)
        if hasattr(value, "get_secret_value"):  # SecretStr, SecretBytes; a SecretDict gives
            value = value.get_secret_value()  # its dict, for a key of it next
        if value is None:
            raise DbtConfigError(f"profiles.yml refers to prefect.blocks.{path}: block "
                                 f"{parts[0]}/{parts[1]} has no field {field!r} set.")
    return value
