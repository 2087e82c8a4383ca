"""The Block base class: typed configuration saved by name, secrets kept out of the store."""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    PrivateAttr,
    ValidationError,
    ValidatorFunctionWrapHandler,
)
from pydantic_core import PydanticCustomError, core_schema

from core_blocks.block_attributes import check_block_attributes
from core_blocks.errors import BlockValidationError
from core_blocks.fields import SecretDict, secret_kind
from core_blocks.naming import slugify
from core_blocks.plugin_loading import plugins_loading

# True while a Block is being validated: nested blocks then raise pydantic's own error.
_validating: ContextVar[bool] = ContextVar("core_blocks_validating", default=False)
_HIDDEN_INPUT = "**********"  # what errors leaving a Block show as the input


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


def _boundary(cls: type) -> Any:
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


_BOUNDARY_LABEL = re.compile(r"^function-wrap\[(\w+)\(\)\]$")


def _without_inputs(exc: ValidationError) -> ValidationError:
    """The same errors (type, message, field path with each union member named by its class)
    with every input replaced by _HIDDEN_INPUT."""
    return ValidationError.from_exception_data(exc.title, [
        {"type": PydanticCustomError(err["type"], err["msg"]), "input": _HIDDEN_INPUT,
         "loc": tuple(_BOUNDARY_LABEL.sub(r"\1", p) if isinstance(p, str) else p
                      for p in err["loc"])}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ])


# Every concrete Block subclass defined in this process, by slug: lets nested documents
# resolve their class without loading plugins.
_defined_types: dict[str, type[Block]] = {}

def _schema_extra(schema: dict[str, Any], cls: type[Block]) -> None:
    schema["block_type_slug"] = cls._block_type_slug
    schema["block_capabilities"] = list(cls._capabilities)
    schema["secret_fields"] = sorted(secret_fields(cls))
    if cls._description:
        schema["description"] = cls._description


class Block(BaseModel):
    """A typed, validated configuration object that is saved once by name and loaded anywhere.

    Subclass it with pydantic fields; secret fields (`SecretStr`, `SecretBytes`, `SecretDict`)
    go to the secret backend on save and the store keeps only a placeholder. Every field wants
    a `description`: it is the schema's, the `blocks create` prompt's and the form's label.

    Class attributes an author may set (Prefect's spellings; all optional). A misspelt or
    wrongly typed one raises TypeError when the class is defined:

    - `_block_type_name`: display name; default the class name.
    - `_block_type_slug`: the type in "slug/name" references; default kebab-case of the name.
    - `_description`: one line; default the docstring's first paragraph.
    - `_documentation_url`, `_logo_url`: http(s) links, or None.
    - `_code_example`: a short usage example, or None.
    - `_capabilities`: a tuple such as ("read-path", "write-path"); inherited from the
      interface (`NotificationBlock` gives ("notify",)).

    A saved or loaded block knows its `saved_name` and `saved_ref` ("slug/name").

        >>> from pydantic import Field, SecretStr
        >>> class Database(Block):
        ...     host: str = Field(description="Server host name")
        ...     password: SecretStr = Field(description="Login password")
        >>> Database(host="db", password="hunter2")
        Database(host='db', password=SecretStr('**********'))
    """

    # validate_assignment: `block.port = "x"` is checked like the constructor's arguments.
    model_config = ConfigDict(extra="forbid", validate_assignment=True,
                              json_schema_extra=_schema_extra)

    _block_type_name: ClassVar[str] = "Block"
    _block_type_slug: ClassVar[str] = "block"
    _description: ClassVar[str] = ""
    _documentation_url: ClassVar[str | None] = None
    _logo_url: ClassVar[str | None] = None
    _code_example: ClassVar[str | None] = None
    _capabilities: ClassVar[tuple[str, ...]] = ()

    _block_document_id: str | None = PrivateAttr(default=None)
    _block_document_name: str | None = PrivateAttr(default=None)
    _block_document_version: int | None = PrivateAttr(default=None)
    _is_anonymous: bool = PrivateAttr(default=False)
    # What a named block held when last loaded or saved (see documents.changed_since_saved).
    _saved_fingerprint: tuple[bytes, bytes] | None = PrivateAttr(default=None)

    def __init__(self, /, **data: Any) -> None:
        if _validating.get():
            # Inside another block's validation (or a load): let pydantic's error travel up
            # with its full field path; the outermost call turns it into our message.
            super().__init__(**data)
            return
        validate_as(type(self), lambda: super(Block, self).__init__(**data))

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name not in type(self).model_fields:
            super().__setattr__(name, value)
            return
        validate_as(type(self), lambda: super(Block, self).__setattr__(name, value))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        """The model's schema inside the Block boundary, which drops inputs from errors.

        A plain pydantic model or a TypeAdapter holding a block merges the block's errors
        into its own, field paths kept, and would otherwise quote the input (which may hold
        secrets) in `input_value` and `errors()`. The boundary's validator is named after
        the class, so a union of blocks still names each member in an error's path.
        """
        schema = handler(source)
        if schema.get("type") == "function-wrap" and getattr(
                schema["function"]["function"], "block_boundary", False):
            return schema  # the class's own schema, already wrapped
        ref = schema.pop("ref", None)  # the wrapper becomes the definition: $defs stay
        return core_schema.no_info_wrap_validator_function(_boundary(cls), schema, ref=ref)

    # pydantic's entry points quote the input in their errors: turn them into ours.

    @classmethod
    def _validate_raw(cls, obj: Any) -> Any:
        """model_validate raising pydantic's ValidationError (field paths intact)."""
        with raw_validation():
            return super().model_validate(obj)

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Any:
        return validate_as(cls, lambda: super(Block, cls).model_validate(obj, **kwargs))

    @classmethod
    def model_validate_json(cls, json_data: Any, **kwargs: Any) -> Any:
        return validate_as(cls, lambda: super(Block, cls).model_validate_json(json_data, **kwargs))

    @classmethod
    def model_validate_strings(cls, obj: Any, **kwargs: Any) -> Any:
        return validate_as(cls, lambda: super(Block, cls).model_validate_strings(obj, **kwargs))

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        own = cls.__dict__
        check_block_attributes(cls, own, set(cls.__private_attributes__))
        if "_block_type_name" not in own:
            cls._block_type_name = cls.__name__
        if "_block_type_slug" not in own:
            cls._block_type_slug = slugify(cls._block_type_name)
        if "_description" not in own and cls.__doc__:
            cls._description = inspect.cleandoc(cls.__doc__).split("\n\n")[0].replace("\n", " ")
        _refuse_buried_secrets(cls)
        if not inspect.isabstract(cls):
            if not plugins_loading():
                _refuse_taken_slug(cls, _defined_types.get(cls._block_type_slug))
            _defined_types[cls._block_type_slug] = cls

    # -- schema ----------------------------------------------------------------------

    @classmethod
    def schema(cls) -> dict[str, Any]:  # type: ignore[override]
        """The block type's JSON schema (secret fields are marked writeOnly)."""
        return cls.model_json_schema()

    @classmethod
    def schema_checksum(cls) -> str:
        """A stable checksum of the JSON schema: 'sha256:' and 64 hex digits."""
        cached = cls.__dict__.get("_schema_checksum_cache")
        if cached is None:
            canonical = json.dumps(cls.model_json_schema(), sort_keys=True, separators=(",", ":"))
            cached = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
            type.__setattr__(cls, "_schema_checksum_cache", cached)
        return cached

    # -- dumps -----------------------------------------------------------------------

    def model_dump(self, *, include_secrets: bool = False, **kwargs: Any) -> dict[str, Any]:
        """pydantic's model_dump, secrets obfuscated unless include_secrets=True."""
        data = super().model_dump(**kwargs)
        if include_secrets:
            _reveal(self, data, json_mode=kwargs.get("mode") == "json")
        return data

    # -- identity ---------------------------------------------------------------------

    @property
    def saved_name(self) -> str | None:
        """The name this block was saved or loaded under; None if unsaved or anonymous.

            >>> from core_blocks import Secret
            >>> Secret(value="x").saved_name is None
            True
        """
        return None if self._is_anonymous else self._block_document_name

    @property
    def saved_ref(self) -> str | None:
        """'type-slug/name' of the saved block (what `Block.load` takes); None if unsaved."""
        name = self.saved_name
        return None if name is None else f"{self._block_type_slug}/{name}"

    # -- persistence (see core_blocks.documents) ------------------------------------

    def save(self, name: str, overwrite: bool = False) -> UUID:
        """Save under `name`; secrets go to the secret backend. Returns the document id.

            >>> from core_blocks import Secret
            >>> Secret(value="hunter2").save("db-password", overwrite=True)  # doctest: +SKIP
            UUID('...')
        """
        from core_blocks.documents import save_block

        return save_block(self, name, overwrite=overwrite)

    @classmethod
    def load(cls, name: str, validate: bool = True):
        """Load a saved block by name (on Block itself, or an abstract type: 'type-slug/name').

        validate=False skips validation, to repair a document the class no longer fits.
        """
        from core_blocks.documents import load_block

        return load_block(cls, name, validate=validate)

    @classmethod
    def delete(cls, name: str) -> None:
        """Delete a saved block and its secrets; refused while another block references it."""
        from core_blocks.documents import delete_block

        delete_block(cls, name)

    @classmethod
    def list(cls) -> list[str]:
        """Names of the saved blocks of this type ('type-slug/name' on Block itself)."""
        from core_blocks.documents import list_blocks

        return list_blocks(cls)

    async def asave(self, name: str, overwrite: bool = False) -> UUID:
        """save() for async code, run in a worker thread."""
        import asyncio  # only async callers pay for importing it
        return await asyncio.to_thread(self.save, name, overwrite)

    @classmethod
    async def aload(cls, name: str, validate: bool = True):
        """load() for async code, run in a worker thread."""
        import asyncio  # only async callers pay for importing it
        return await asyncio.to_thread(cls.load, name, validate)

    @classmethod
    async def adelete(cls, name: str) -> None:
        """delete() for async code, run in a worker thread."""
        import asyncio  # only async callers pay for importing it
        await asyncio.to_thread(cls.delete, name)


# -- introspection ---------------------------------------------------------------------


def annotation_args(annotation: Any) -> tuple[Any, ...]:
    """The types a field annotation accepts: Optional/Union members (None dropped), Annotated
    unwrapped. `annotation_args(int | None)` is `(int,)`."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return tuple(a for a in typing.get_args(annotation) if a is not type(None))
    if origin is typing.Annotated:
        return annotation_args(typing.get_args(annotation)[0])
    return (annotation,)


def _buried_secret(annotation: Any, top: bool, seen: set) -> bool:
    """Whether a secret type sits somewhere other than a field's own type (or a nested Block)."""
    from pydantic import SecretBytes, SecretStr
    from pydantic.types import Secret

    for arg in annotation_args(annotation):
        if isinstance(arg, type) and issubclass(arg, (SecretStr, SecretBytes, Secret)):
            if not top:
                return True
            continue
        if isinstance(arg, type) and issubclass(arg, Block):
            continue  # a nested block keeps its own secrets
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            if arg not in seen:
                seen.add(arg)
                if any(_buried_secret(f.annotation, False, seen)
                       for f in arg.model_fields.values()):
                    return True
            continue
        if any(_buried_secret(a, False, seen) for a in typing.get_args(arg)
               if a is not Ellipsis):
            return True
    return False


def _refuse_buried_secrets(cls: type[Block]) -> None:
    for name, field in cls.model_fields.items():
        if _buried_secret(field.annotation, True, set()):
            raise TypeError(
                f"{cls.__name__}.{name} holds a secret inside a list, dict or plain model; "
                "secrets are kept out of the store only as a block's own fields. Make it a "
                "SecretStr/SecretBytes/SecretDict field, or a nested Block with secret fields."
            )


def class_path(cls: type) -> str:
    """'module.QualName': how messages name a class."""
    return f"{cls.__module__}.{cls.__qualname__}"


def same_definition(a: type, b: type) -> bool:
    """Whether a and b are one class statement, b perhaps run again (a module reloaded)."""
    return a is b or class_path(a) == class_path(b)


def slug_taken_message(cls: type[Block], owner: type, how: str) -> str:
    """The error for cls claiming the slug of owner, another class."""
    slug = cls._block_type_slug
    return (f"{class_path(cls)} uses block type slug {slug!r}, which {how} "
            f"{class_path(owner)}: saving it would overwrite that type's schema and mix their "
            f"blocks. Give {cls.__qualname__} its own slug: set _block_type_slug = '...' in its "
            "class body.")


def _refuse_taken_slug(cls: type[Block], owner: type[Block] | None) -> None:
    # A user class named like a core one ("Webhook") would otherwise save the core type's
    # secret fields in clear and overwrite its recorded schema.
    if owner is not None and not same_definition(owner, cls):
        raise TypeError(slug_taken_message(cls, owner, "is already taken by"))


def _per_class(compute: Callable[[type[BaseModel]], dict]) -> Callable[[type[BaseModel]], dict]:
    """compute(cls) once per class, kept in the class itself beside the fields it was computed
    from: a model rebuilt with other fields (forward references resolved) computes it again.
    Callers must not change the dict returned."""
    attr = f"_cached_{compute.__name__}"

    def cached(cls: type[BaseModel]) -> dict:
        fields = cls.model_fields
        entry = cls.__dict__.get(attr)
        if entry is None or entry[0] is not fields:
            entry = (fields, compute(cls))
            type.__setattr__(cls, attr, entry)
        return entry[1]

    cached.__name__, cached.__doc__ = compute.__name__, compute.__doc__
    return cached


@_per_class
def secret_fields(cls: type[BaseModel]) -> dict[str, str]:
    """Field name -> 'str' | 'bytes' | 'dict' for the fields typed as secrets."""
    from pydantic import SecretBytes, SecretStr

    kinds = {SecretStr: "str", SecretBytes: "bytes", SecretDict: "dict"}
    found = {}
    for name, field in cls.model_fields.items():
        for arg in annotation_args(field.annotation):
            for secret_type, kind in kinds.items():
                if isinstance(arg, type) and issubclass(arg, secret_type):
                    found[name] = kind
    return found


@_per_class
def block_fields(cls: type[BaseModel]) -> dict[str, tuple[type[Block], ...]]:
    """Field name -> the Block types it accepts, for fields that hold nested blocks."""
    found = {}
    for name, field in cls.model_fields.items():
        blocks = tuple(a for a in annotation_args(field.annotation)
                       if isinstance(a, type) and issubclass(a, Block))
        if blocks:
            found[name] = blocks
    return found


def defined_type(slug: str) -> type[Block] | None:
    """The Block class with this slug defined in this process, if any."""
    return _defined_types.get(slug)


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


def _reveal(block: Block, data: dict[str, Any], json_mode: bool) -> None:
    for name in list(data):
        value = getattr(block, name, None)
        kind = secret_kind(value)
        if kind is not None:
            secret = value.get_secret_value()
            if kind == "bytes" and json_mode:
                secret = base64.b64encode(secret).decode()
            data[name] = secret
        elif isinstance(value, Block) and isinstance(data[name], dict):
            _reveal(value, data[name], json_mode)
