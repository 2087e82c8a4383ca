"""Gathering field values for `blocks create`: --from-json, then --set, then prompts.

A --set value or a typed answer is JSON for a field that holds JSON data (numbers, booleans,
lists, objects, `Any`), never silently text; a text field takes it as typed. On a terminal a
bad answer is explained in one line and asked again, keeping the answers already given.
"""

from __future__ import annotations

import json
import sys
import typing
from pathlib import Path
from typing import Any

from core_blocks.block import Block, annotation_args, block_fields, secret_fields
from core_blocks.cli.output import UserError, error_line, is_interactive
from core_blocks.json_numbers import non_finite_at, non_finite_message

# What a JSON document can be (besides pydantic models, checked apart): a field accepting only
# these takes JSON. `Any` and `object` accept anything, so JSON is how to say what.
_JSON_TYPES = (dict, list, tuple, set, frozenset, int, float, bool, typing.Any, object)


def collect_values(cls: type[Block], ref: str, sets: list[str],
                   from_json: str | None) -> dict[str, Any]:
    """The field values for a new block of cls; raises UserError naming what is wrong."""
    values: dict[str, Any] = {}
    if from_json is not None:
        values.update(_read_json(from_json))
    raw_sets = {}
    for item in sets:
        field, sep, raw = item.partition("=")
        field = field.strip()
        if not sep or not field:
            # The item itself is not echoed: it may hold a secret value.
            shown = f" for field {field!r}" if sep and field else ""
            raise UserError(f"A --set{shown} is not FIELD=VALUE (the value is not shown); "
                            "write it as e.g. --set region=eu-west-1.")
        raw_sets[field] = raw
    values.update(raw_sets)
    unknown = [f for f in values if f not in cls.model_fields]
    if unknown:
        raise UserError(f"{', '.join(repr(f) for f in unknown)} is not a field of "
                        f"{cls._block_type_slug}; its fields: {', '.join(cls.model_fields)}.")
    values = {field: _parse(cls, field, value, "--set value") if field in raw_sets else
              _resolve(cls, field, value) for field, value in values.items()}
    missing = [f for f, info in cls.model_fields.items()
               if info.is_required() and f not in values]
    if missing:
        if not is_interactive() or from_json == "-":
            raise UserError(
                f"Missing required field(s) for {ref}: {', '.join(missing)}. Pass them with "
                "--set FIELD=VALUE or --from-json FILE (there is no terminal to prompt on)."
            )
        for field in missing:
            values[field] = _ask(cls, field, values)
    if not sets and from_json is None and is_interactive():
        # Fully interactive: offer the optional secrets too (an access key, a token), which
        # are exactly the values users should type at a hidden prompt, not on a command line.
        for field in secret_fields(cls):
            if field not in values and not cls.model_fields[field].is_required():
                answer = _ask(cls, field, values, optional=True)
                if answer is not None:
                    values[field] = answer
    return values


def _takes_json(cls: type[Block], field: str) -> bool:
    """Whether a typed value for field must be JSON: every type it accepts is JSON data."""
    from pydantic import BaseModel

    from core_blocks.fields import SecretDict

    def json_data(arg: Any) -> bool:
        origin = typing.get_origin(arg) or arg
        return (origin in _JSON_TYPES
                or (isinstance(origin, type) and issubclass(origin, (BaseModel, SecretDict))))

    args = annotation_args(cls.model_fields[field].annotation)
    return not block_fields(cls).get(field) and all(json_data(a) for a in args)


def _read_json(source: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text()
    except OSError as exc:
        raise UserError(f"Cannot read --from-json {source}: {exc.strerror}.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"--from-json {source} is not valid JSON: {exc.msg} at line "
                        f"{exc.lineno}.") from None
    if not isinstance(data, dict):
        raise UserError(f"--from-json {source} must hold a JSON object of field values.")
    found = non_finite_at(data)
    if found:
        raise UserError(f"--from-json {source} {non_finite_message(found)}.")
    return data


def _resolve(cls: type[Block], field: str, value: Any) -> Any:
    """A value from --from-json (already JSON): a TYPE/NAME string for a nested block loaded."""
    nested = block_fields(cls).get(field)
    if nested and isinstance(value, str):
        return _load_nested(cls, field, nested, value)
    return value


def _parse(cls: type[Block], field: str, text: str, source: str) -> Any:
    """Text from --set or a prompt as the field expects it; source names it in errors."""
    if field in block_fields(cls) or _is_text(cls, field):
        return _resolve(cls, field, text)
    try:
        value = json.loads(text)  # numbers, booleans, lists and objects
    except json.JSONDecodeError as exc:
        if not _takes_json(cls, field):
            return text  # a path, a date, a URL...: pydantic reads those from text
        where = f"line {exc.lineno} column {exc.colno}" if exc.lineno > 1 else f"column {exc.colno}"
        # The message and position only: the value itself may be a secret.
        raise UserError(f"{source} for field {field!r} of {cls._block_type_slug} is not valid "
                        f"JSON: {exc.msg} at {where}. Write it as JSON (text in double quotes)."
                        ) from None
    found = non_finite_at(value)  # NaN, Infinity, 1e999: Python reads them, JSON cannot hold them
    if found:
        raise UserError(f"{source} for field {field!r} of {cls._block_type_slug} "
                        f"{non_finite_message(found)}.")
    return value


def _is_text(cls: type[Block], field: str) -> bool:
    from pydantic import SecretBytes, SecretStr

    args = annotation_args(cls.model_fields[field].annotation)
    return any(a in (str, bytes)
               or (isinstance(a, type) and issubclass(a, (SecretStr, SecretBytes)))
               or typing.get_origin(a) is typing.Literal for a in args)


def _load_nested(cls: type[Block], field: str, accepted: tuple[type[Block], ...],
                 ref: str) -> Block:
    if "/" in ref:
        block = Block.load(ref)
    elif len(accepted) == 1:
        block = accepted[0].load(ref)
    else:
        slugs = ", ".join(a._block_type_slug for a in accepted)
        raise UserError(f"Field {field!r} of {cls._block_type_slug} takes one of: {slugs}. "
                        f"Write it as TYPE/NAME, e.g. --set {field}={accepted[0]._block_type_slug}"
                        f"/{ref}.")
    if not isinstance(block, accepted):
        slugs = ", ".join(a._block_type_slug for a in accepted)
        raise UserError(f"Field {field!r} of {cls._block_type_slug} takes {slugs}, not "
                        f"{type(block)._block_type_slug}.")
    return block


def _ask(cls: type[Block], field: str, values: dict[str, Any], optional: bool = False) -> Any:
    """Prompt until the answer is valid for field (None: an optional field skipped)."""
    from core_blocks.errors import CoreBlocksError

    while True:
        answer = _prompt(cls, field, optional)
        if optional and not answer:
            return None
        try:
            value = _parse(cls, field, answer, "The value")
            _check_field(cls, field, value, values)
            return value
        except (UserError, CoreBlocksError) as exc:
            error_line(f"{exc} Type it again.")


def _check_field(cls: type[Block], field: str, value: Any, values: dict[str, Any]) -> None:
    """Raise UserError when value is invalid for field, judged with the answers so far.

    The whole model is validated so that field validators run too; only this field's errors
    count, since later fields are still missing.
    """
    from pydantic import ValidationError

    try:
        cls._validate_raw({**values, field: value})
    except ValidationError as exc:
        problems = [e["msg"].removeprefix("Value error, ").rstrip(".")
                    for e in exc.errors(include_input=False, include_url=False,
                                        include_context=False) if e["loc"][:1] == (field,)]
        if problems:
            raise UserError(f"Invalid value for field {field!r} of {cls._block_type_slug}: "
                            f"{'; '.join(problems)}.") from None


def _prompt(cls: type[Block], field: str, optional: bool = False) -> str:
    from rich.prompt import Prompt

    info = cls.model_fields[field]
    label = f"{field}" + (f" ({info.description})" if info.description else "")
    if optional:
        label += " (optional: Enter to skip)"
    if field in block_fields(cls):
        label += " [TYPE/NAME of a saved block]"
    secret = field in secret_fields(cls)
    if secret and secret_fields(cls)[field] == "dict":
        label += " [JSON object]"
    elif not secret and _takes_json(cls, field):
        label += " [JSON]"
    from rich.markup import escape

    label = escape(label)  # shown literally: a description may hold [brackets]
    if optional:
        return Prompt.ask(label, password=secret, default="", show_default=False)
    return Prompt.ask(label, password=secret)
