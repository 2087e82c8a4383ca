"""The block model: class attributes, validation, schema, dumps and field introspection of
every block type. `core_blocks.block.Block` adds saving and loading on top; this module knows
nothing of the store, so the persistence layer (core_blocks.documents) can build on it."""

from __future__ import annotations

import hashlib
import inspect
import json
import typing
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, PrivateAttr, model_validator
from pydantic.types import Secret
from pydantic_core import core_schema

from core_blocks.block_attributes import check_block_attributes
from core_blocks.fields import SECRET_TYPES, annotation_args, kind_named, kind_of, kind_of_type
from core_blocks.naming import slugify
from core_blocks.registry import define_block_type
from core_blocks.validation_errors import (
    boundary_validator,
    raw_validation,
    validate_as,
    validating,
)


def _schema_extra(schema: dict[str, Any], cls: type[BlockModel]) -> None:
    schema["block_type_slug"] = cls._block_type_slug
    schema["block_capabilities"] = list(cls._capabilities)
    schema["secret_fields"] = sorted(secret_fields(cls))
    aliases = {name: info.alias for name, info in cls.model_fields.items()
               if info.alias and info.alias != name}
    if aliases:  # the store keeps documents by field name; users know these by alias
        schema["field_aliases"] = aliases
    for name in secret_fields(cls):  # a secret's default is as secret as any value given
        schema.get("properties", {}).get(name, {}).pop("default", None)
    if cls._description:
        schema["description"] = cls._description


class BlockModel(BaseModel):
    """What makes a pydantic model a block type: the class attributes, the secret-safe
    validation boundary and dumps, the schema and identity; `Block` adds saving and loading."""

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
        if validating():
            # Inside another block's validation (or a load): let pydantic's error travel up
            # with its full field path; the outermost call turns it into our message.
            super().__init__(**data)
            return
        validate_as(type(self), lambda: super(BlockModel, self).__init__(**data))

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in type(self).model_fields and not name.startswith("_") \
                and callable(getattr(type(self), name, None)):
            # A method replaced on one block, as tests do (monkeypatch.setattr(block,
            # "get_client", fake)): the instance's own attribute, never a field or saved.
            object.__setattr__(self, name, value)
            return
        if name.startswith("_") or name not in type(self).model_fields:
            super().__setattr__(name, value)
            return
        validate_as(type(self), lambda: super(BlockModel, self).__setattr__(name, value))

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
        return core_schema.no_info_wrap_validator_function(boundary_validator(cls), schema,
                                                            ref=ref)

    @model_validator(mode="after")
    def _secret_defaults(self) -> BlockModel:
        """Make a secret field left to its default a secret, as a value given for it is.

        pydantic does not validate defaults, so `options: SecretDict =
        Field(default_factory=dict)` would otherwise hold a plain dict: shown by repr, saved
        as plain text, refused on load. (Not `validate_default`: setting it on a defined
        class means building its schema a second time, for Webhook at every start-up.)
        """
        values = self.__dict__
        for name, kind in secret_fields(type(self)).items():
            value = values.get(name)
            if value is not None and kind_of(value) is None:
                values[name] = kind_named(kind).type(value)
        return self

    # pydantic's entry points quote the input in their errors: turn them into ours.

    @classmethod
    def _validate_raw(cls, obj: Any) -> Any:
        """model_validate raising pydantic's ValidationError (field paths intact)."""
        with raw_validation():
            return super().model_validate(obj)

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Any:
        return validate_as(cls, lambda: super(BlockModel, cls).model_validate(obj, **kwargs))

    @classmethod
    def model_validate_json(cls, json_data: Any, **kwargs: Any) -> Any:
        return validate_as(
            cls, lambda: super(BlockModel, cls).model_validate_json(json_data, **kwargs))

    @classmethod
    def model_validate_strings(cls, obj: Any, **kwargs: Any) -> Any:
        return validate_as(
            cls, lambda: super(BlockModel, cls).model_validate_strings(obj, **kwargs))

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if is_base_block(cls):
            return  # Block itself is the base of every block type, not a type of its own
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
            define_block_type(cls)  # the registry's lookup by slug finds it from now on

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

def is_base_block(cls: type) -> bool:
    """Whether cls is Block itself, on which load and list take 'type-slug/name'."""
    return cls is BlockModel or BlockModel in cls.__bases__


# -- introspection ---------------------------------------------------------------------


def _buried_secret(annotation: Any, top: bool, seen: set) -> bool:
    """Whether a secret type sits somewhere other than a field's own type (or a nested Block)."""
    for arg in annotation_args(annotation):
        if isinstance(arg, type) and issubclass(arg, (*SECRET_TYPES, Secret)):
            if not top:
                return True
            continue
        if isinstance(arg, type) and issubclass(arg, BlockModel):
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


def _refuse_buried_secrets(cls: type[BlockModel]) -> None:
    for name, field in cls.model_fields.items():
        if _buried_secret(field.annotation, True, set()):
            raise TypeError(
                f"{cls.__name__}.{name} holds a secret inside a list, dict or plain model; "
                "secrets are kept out of the store only as a block's own fields. Make it a "
                "SecretStr/SecretBytes/SecretDict field, or a nested Block with secret fields."
            )


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
    found = {}
    for name, field in cls.model_fields.items():
        for arg in annotation_args(field.annotation):
            kind = kind_of_type(arg)
            if kind is not None:
                found[name] = kind.name
    return found


@_per_class
def block_fields(cls: type[BaseModel]) -> dict[str, tuple[type[BlockModel], ...]]:
    """Field name -> the Block types it accepts, for fields that hold nested blocks."""
    found = {}
    for name, field in cls.model_fields.items():
        blocks = tuple(a for a in annotation_args(field.annotation)
                       if isinstance(a, type) and issubclass(a, BlockModel))
        if blocks:
            found[name] = blocks
    return found


def _reveal(block: BlockModel, data: dict[str, Any], json_mode: bool) -> None:
    for field, info in type(block).model_fields.items():
        name = field if field in data else info.alias  # a dump by_alias=True
        if name not in data:
            continue
        value = getattr(block, field, None)
        kind = kind_of(value)
        if kind is not None:
            secret = value.get_secret_value()
            data[name] = kind.encode(secret) if json_mode else secret  # JSON: bytes as base64
        elif isinstance(value, BlockModel) and isinstance(data[name], dict):
            _reveal(value, data[name], json_mode)
