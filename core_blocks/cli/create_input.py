"""Gathering field values for `blocks create`: --from-json, then --set, then prompts.

A --set value or a typed answer is JSON for a field that holds JSON data (numbers, booleans,
lists, objects, `Any`), never silently text; a text field takes it as typed. On a terminal a
bad answer is explained in one line and asked again, keeping the answers already given.
"""

from __future__ import annotations

import json
import re
import sys
import typing
from pathlib import Path
from typing import Any

import click

from core_blocks.block import Block, annotation_args, block_fields, secret_fields
from core_blocks.cli.output import UserError, error_line, is_interactive
from core_blocks.json_numbers import non_finite_at, non_finite_message

# What a JSON document can be (besides pydantic models, checked apart): a field accepting only
# these takes JSON. `Any` and `object` accept anything, so JSON is how to say what.
_JSON_TYPES = (dict, list, tuple, set, frozenset, int, float, bool, typing.Any, object)


def collect_values(cls: type[Block], ref: str, sets: list[str],
                   from_json: str | None) -> dict[str, Any]:
    """The field values for a new block of cls; raises UserError naming what is wrong.

    On a terminal, missing required fields are asked for in the class's field order, then
    (when nothing came from --set or --from-json) optional fields are offered, then fields
    the block's own rules still need (a secret key for a key ID) are asked for. Without a
    terminal, what is missing is one error naming the --set to add.
    """
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
    unknown = [f for f in values if _field_of(cls, f) is None]
    if unknown:
        fields = ", ".join(_shown(cls, f) for f in cls.model_fields)
        raise UserError(f"{', '.join(repr(f) for f in unknown)} is not a field of "
                        f"{cls._block_type_slug}; its fields: {fields}.")
    values = {_field_of(cls, key): _parse(cls, _field_of(cls, key), value, "--set value")
              if key in raw_sets else _resolve(cls, _field_of(cls, key), value)
              for key, value in values.items()}
    given = set(values)
    can_prompt = is_interactive() and from_json != "-"
    missing = {f: "" for f, info in cls.model_fields.items()
               if info.is_required() and f not in values}
    if missing and not can_prompt:
        raise UserError(_missing_message(cls, ref, missing))
    for field in missing:
        values[field] = _ask(cls, field, values)
    if not given and can_prompt:
        _offer_optional(cls, values)
    for _ in range(3):  # a rule's answer may bring up another rule; never loop for ever
        needed = _needed_by_rules(cls, values, given)
        if not needed:
            break
        if not can_prompt:
            raise UserError(_missing_message(cls, ref, needed))
        for field, why in needed.items():
            click.echo(f"{_shown(cls, field)} is needed: {why}.")
            values[field] = _ask(cls, field, {k: v for k, v in values.items() if k != field})
    return _as_input(cls, values)


def _shown(cls: type[Block], field: str) -> str:
    """The name users know a field by: its alias (dbt's `schema`), else its name."""
    return cls.model_fields[field].alias or field


def _field_of(cls: type[Block], key: str) -> str | None:
    """The field a user's key (its alias or its name) means; None if no field."""
    if key in cls.model_fields:
        return key
    return next((f for f, info in cls.model_fields.items() if info.alias == key), None)


def _as_input(cls: type[Block], values: dict[str, Any]) -> dict[str, Any]:
    """values keyed as the model takes them: by alias where a field has one."""
    return {_shown(cls, field): value for field, value in values.items()}


def _missing_message(cls: type[Block], ref: str, missing: dict[str, str]) -> str:
    """One line naming the missing fields (each with the rule asking for it, if any) and the
    --set options that would add them."""
    by_reason: dict[str, list[str]] = {}  # fields one rule asks for are named together
    for field, why in missing.items():
        by_reason.setdefault(why, []).append(_shown(cls, field))
    names = ", ".join(", ".join(fields) + (f" ({why})" if why else "")
                      for why, fields in by_reason.items())
    adds = " ".join(f"--set {_shown(cls, f)}=VALUE" for f in missing)
    kind = "required " if not any(missing.values()) else ""
    return (f"Missing {kind}field(s) for {ref}: {names}. Add {adds} or use --from-json FILE "
            "(there is no terminal to prompt on).")


def _names(message: str, field: str) -> bool:
    """Whether message names field: quoted, or as a word when the name has an underscore
    (so that "path" in plain English is not taken for a field named path)."""
    if re.search(rf"['`\"]{re.escape(field)}['`\"]", message):
        return True
    return "_" in field and re.search(rf"\b{re.escape(field)}\b", message) is not None


def _offer_optional(cls: type[Block], values: dict[str, Any]) -> None:
    """One question, then each optional field in turn: Enter keeps its default."""
    from rich.prompt import Confirm

    optional = [f for f in cls.model_fields if f not in values]
    if not optional:
        return
    from rich.markup import escape

    names = ", ".join(_shown(cls, f) for f in optional)
    if not Confirm.ask(escape(f"Set optional fields ({names})?"), default=False):
        return
    for field in optional:
        answer = _ask(cls, field, values, optional=True)
        if answer is not None:
            values[field] = answer


def _needed_by_rules(cls: type[Block], values: dict[str, Any], given: set[str]
                     ) -> dict[str, str]:
    """Fields to ask for because the block's validation still fails on them: field -> why.

    An error on a field the user typed at a prompt asks for it again; an error on a field
    from --set or --from-json asks for the still-missing fields its message names (a rule
    like "set it together with aws_access_key_id").
    """
    from pydantic import ValidationError

    try:
        cls._validate_raw(_as_input(cls, values))
    except ValidationError as exc:
        needed: dict[str, str] = {}
        for error in exc.errors(include_input=False, include_url=False, include_context=False):
            why = error["msg"].removeprefix("Value error, ").rstrip(".")
            field = _field_of(cls, str(error["loc"][0])) if error["loc"] else None
            if field is not None and field not in given:
                needed.setdefault(field, why)
                continue
            for name in cls.model_fields:
                if name not in values and _names(why, _shown(cls, name)):
                    needed.setdefault(name, why)
        return needed
    return {}


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
        wanted = _scalar_wanted(cls, field)
        if wanted:  # a number or a boolean: say which, not "JSON"
            raise UserError(f"{source} for field {_shown(cls, field)!r} of "
                            f"{cls._block_type_slug} must be "
                            f"{wanted}.") from None
        where = f"line {exc.lineno} column {exc.colno}" if exc.lineno > 1 else f"column {exc.colno}"
        # The message and position only: the value itself may be a secret.
        raise UserError(f"{source} for field {_shown(cls, field)!r} of {cls._block_type_slug} "
                        "is not valid "
                        f"JSON: {exc.msg} at {where}. Write it as JSON (text in double quotes)."
                        ) from None
    found = non_finite_at(value)  # NaN, Infinity, 1e999: Python reads them, JSON cannot hold them
    if found:
        raise UserError(f"{source} for field {field!r} of {cls._block_type_slug} "
                        f"{non_finite_message(found)}.")
    return value


# A field of one of these scalar types wants this kind of --set value (JSON: 42, 2.5, true).
_SCALARS = {(int,): "an integer, e.g. 42", (float,): "a number, e.g. 2.5",
            (int, float): "a number, e.g. 2.5", (float, int): "a number, e.g. 2.5",
            (bool,): "true or false"}


def _scalar_wanted(cls: type[Block], field: str) -> str | None:
    """What a number or boolean field wants, in words; None for other fields."""
    return _SCALARS.get(annotation_args(cls.model_fields[field].annotation))


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
    """Prompt until the answer is valid for field (None: an optional field left as it is)."""
    from core_blocks.errors import CoreBlocksError

    while True:
        answer = _prompt(cls, field, optional)
        try:
            if not answer:
                if not optional:
                    raise UserError(f"Field {_shown(cls, field)!r} of {cls._block_type_slug} "
                                    "needs a value.")
                _check_field(cls, field, values)  # may its default stay, given the others?
                return None
            value = _parse(cls, field, answer, "The value")
            _check_field(cls, field, {**values, field: value})
            return value
        except (UserError, CoreBlocksError) as exc:
            error_line(f"{exc} Type it again.")


def _check_field(cls: type[Block], field: str, values: dict[str, Any]) -> None:
    """Raise UserError when values are invalid for field, judged with the answers so far.

    The whole model is validated so that field validators run too; only this field's errors
    count, since later fields are still missing.
    """
    from pydantic import ValidationError

    try:
        cls._validate_raw(_as_input(cls, values))
    except ValidationError as exc:
        problems = [e["msg"].removeprefix("Value error, ").rstrip(".")
                    for e in exc.errors(include_input=False, include_url=False,
                                        include_context=False)
                    if e["loc"][:1] == (_shown(cls, field),)]
        if problems:
            raise UserError(f"Invalid value for field {_shown(cls, field)!r} of "
                            f"{cls._block_type_slug}: "
                            f"{'; '.join(problems)}.") from None


def _prompt(cls: type[Block], field: str, optional: bool = False) -> str:
    from rich.prompt import Prompt

    info = cls.model_fields[field]
    label = _shown(cls, field) + (f" ({info.description})" if info.description else "")
    if optional:
        label += f" (Enter: {_default_shown(cls, field)})"
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


def _default_shown(cls: type[Block], field: str) -> str:
    """What Enter keeps for an optional field, in a few words; never a secret's value."""
    info = cls.model_fields[field]
    if info.default_factory is not None:
        return "default"
    if info.default is None:
        return "none"
    if field in secret_fields(cls):
        return "default"
    default = info.default
    return json.dumps(default) if isinstance(default, (bool, int, float)) else str(default)
