"""Validation errors as our own: one sentence naming the fields, never the values given.

pydantic's errors quote the input, which may hold secrets. A block validates in "raw" mode
(pydantic's error, field paths intact, travels up through nested blocks) and the outermost
call turns it into a BlockValidationError; a block's schema, embedded in another model, drops
the inputs from its errors at its boundary.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pydantic import BaseModel, ValidationError, ValidatorFunctionWrapHandler
from pydantic_core import PydanticCustomError

from core_blocks.errors import BlockValidationError
from core_blocks.fields import annotation_args

# True while a Block is being validated: nested blocks then raise pydantic's own error.
_validating: ContextVar[bool] = ContextVar("core_blocks_validating", default=False)
_HIDDEN_INPUT = "**********"  # what errors leaving a Block show as the input
_BOUNDARY_LABEL = re.compile(r"^function-wrap\[(\w+)\(\)\]$")


def validating() -> bool:
    """True inside raw_validation(): a block's own error is left to the outermost call."""
    return _validating.get()


@contextmanager
def raw_validation() -> Iterator[None]:
    """Validate blocks inside this block raising pydantic's ValidationError, field paths intact."""
    token = _validating.set(True)
    try:
        yield
    finally:
        _validating.reset(token)


def validate_as(cls: type[BaseModel], call: Callable[[], Any]) -> Any:
    """call() in raw mode, pydantic's error re-raised as ours: its text would quote the input,
    which may hold secrets. Raised outside the `except`, so it has no __context__ either."""
    try:
        with raw_validation():
            return call()
    except ValidationError as exc:
        error = validation_error(cls, exc)
    raise error from None


def boundary_validator(cls: type) -> Any:
    """The wrap validator at a block class's boundary (see Block.__get_pydantic_core_schema__)."""

    def boundary(data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            with raw_validation():
                return handler(data)
        except ValidationError as exc:
            hidden = _without_inputs(exc)
        raise hidden from None  # outside the except: no __context__ holding the input

    boundary.__name__ = cls.__name__  # pydantic labels a union member "function-wrap[Name()]"
    boundary.block_boundary = True  # type: ignore[attr-defined]
    return boundary


def _without_inputs(exc: ValidationError) -> ValidationError:
    """The same errors (type, message, field path with each union member named by its class)
    with every input replaced by _HIDDEN_INPUT."""
    return ValidationError.from_exception_data(exc.title, [
        {"type": PydanticCustomError(err["type"], err["msg"]), "input": _HIDDEN_INPUT,
         "loc": tuple(_BOUNDARY_LABEL.sub(r"\1", p) if isinstance(p, str) else p
                      for p in err["loc"])}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ])


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The model classes an annotation accepts, inside unions and containers."""
    found = []
    for arg in annotation_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            found.append(arg)
        else:
            for inner in typing.get_args(arg):
                found.extend(_models_in(inner))
    return found


def _model_at(cls: type[BaseModel], path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model an error location's path leads to, or None when it cannot be told.

    A path holds field names, list indexes or dict keys, and union members' class names
    (pydantic's tag for which member failed): `('credentials', 'MinIOCredentials')`.
    """
    models = [cls]
    for part in path:
        tagged = [m for m in models if m.__name__ == part]
        if tagged:
            models = tagged
            continue
        owners = [m for m in models if isinstance(part, str) and part in m.model_fields]
        if owners:
            models = _models_in(owners[0].model_fields[part].annotation)
        # otherwise a list index or a dict key: still the same models
    return models[0] if len(models) == 1 else None


def validation_error(cls: type[BaseModel], exc: ValidationError,
                     prefix: str | None = None) -> BlockValidationError:
    """One sentence naming each field that failed and why, never the values given."""
    slug = getattr(cls, "_block_type_slug", cls.__name__)
    problems, fields = [], []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = ".".join(str(p) for p in err["loc"])
        if not loc:  # a model-level validator: its message names what is wrong
            problems.append(err["msg"].removeprefix("Value error, ").rstrip("."))
            continue
        fields.append(loc)
        if err["type"] == "missing":
            problems.append(f"field {loc!r} is required")
        elif err["type"] == "extra_forbidden":
            owner = _model_at(cls, err["loc"][:-1])  # a nested field's own model, not cls
            known = f" (fields: {', '.join(owner.model_fields) or 'none'})" if owner else ""
            problems.append(f"{loc!r} is not a field{known}")
        else:
            # A nested block's own error arrives as "Value error, Invalid ... block: ...".
            msg = err["msg"].removeprefix("Value error, ").rstrip(".")
            problems.append(f"field {loc!r}: {msg}")
    head = prefix or f"Invalid {slug} block"
    return BlockValidationError(f"{head}: {'; '.join(problems)}.", fields)
