"""Gathering field values for `blocks create`: --from-json, then --set, then prompts."""

from __future__ import annotations

import json
import sys
import typing
from pathlib import Path
from typing import Any

from core_blocks.block import Block, _annotation_args, block_fields, secret_fields
from core_blocks.cli.output import UserError, is_interactive


def collect_values(cls: type[Block], ref: str, sets: list[str],
                   from_json: str | None) -> dict[str, Any]:
    """The field values for a new block of cls; raises UserError naming what is wrong."""
    values: dict[str, Any] = {}
    if from_json is not None:
        values.update(_read_json(from_json))
    for item in sets:
        field, sep, raw = item.partition("=")
        field = field.strip()
        if not sep or not field:
            # The item itself is not echoed: it may hold a secret value.
            shown = f" for field {field!r}" if sep and field else ""
            raise UserError(f"A --set{shown} is not FIELD=VALUE (the value is not shown); "
                            "write it as e.g. --set region=eu-west-1.")
        values[field] = raw
    unknown = [f for f in values if f not in cls.model_fields]
    if unknown:
        raise UserError(f"{', '.join(repr(f) for f in unknown)} is not a field of "
                        f"{cls._block_type_slug}; its fields: {', '.join(cls.model_fields)}.")
    values = {field: _parse(cls, field, value) for field, value in values.items()}
    missing = [f for f, info in cls.model_fields.items()
               if info.is_required() and f not in values]
    if missing:
        if not is_interactive() or from_json == "-":
            raise UserError(
                f"Missing required field(s) for {ref}: {', '.join(missing)}. Pass them with "
                "--set FIELD=VALUE or --from-json FILE (there is no terminal to prompt on)."
            )
        for field in missing:
            values[field] = _parse(cls, field, _prompt(cls, field))
    if not sets and from_json is None and is_interactive():
        # Fully interactive: offer the optional secrets too (an access key, a token), which
        # are exactly the values users should type at a hidden prompt, not on a command line.
        for field in secret_fields(cls):
            if field not in values and not cls.model_fields[field].is_required():
                answer = _prompt(cls, field, optional=True)
                if answer:
                    values[field] = _parse(cls, field, answer)
    return values


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
    return data


def _parse(cls: type[Block], field: str, value: Any) -> Any:
    """A raw --set string (or a JSON value) as the field expects it."""
    nested = block_fields(cls).get(field)
    if nested:
        return _load_nested(cls, field, nested, value) if isinstance(value, str) else value
    if not isinstance(value, str) or _is_text(cls, field):
        return value
    try:
        return json.loads(value)  # numbers, booleans, lists and objects
    except json.JSONDecodeError:
        return value


def _is_text(cls: type[Block], field: str) -> bool:
    from pydantic import SecretStr

    args = _annotation_args(cls.model_fields[field].annotation)
    return any(a is str or (isinstance(a, type) and issubclass(a, SecretStr))
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
    from rich.markup import escape

    label = escape(label)  # shown literally: a description may hold [brackets]
    if optional:
        return Prompt.ask(label, password=secret, default="", show_default=False)
    return Prompt.ask(label, password=secret)
