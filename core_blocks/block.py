"""The Block base class: typed configuration saved by name, secrets kept out of the store.

Its model (attributes, validation, schema, dumps) is `core_blocks.block_model.BlockModel`; this
module adds saving and loading, which `core_blocks.documents` implements.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import ConfigDict

# These names are imported from here too: they lived here before their own modules.
from core_blocks.block_model import (  # noqa: F401
    BlockModel,
    block_fields,
    is_base_block,
    secret_fields,
)
from core_blocks.dispatch import Dispatched, async_dispatch
from core_blocks.fields import annotation_args  # noqa: F401
from core_blocks.registry import (  # noqa: F401
    class_path,
    defined_type,
    same_definition,
    slug_taken_message,
)
from core_blocks.validation_errors import raw_validation, validation_error  # noqa: F401


class Block(BlockModel):
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

    # A dispatched method is a method, not a field.
    model_config = ConfigDict(ignored_types=(Dispatched,))

    # -- persistence (see core_blocks.documents) ------------------------------------
    # save, load and delete follow Prefect 3's sync-or-async rule (core_blocks.dispatch):
    # `await S3Bucket.load("raw")` in async code, `S3Bucket.load("raw")` in sync code.

    async def asave(self, name: str, overwrite: bool = False) -> UUID:
        """save() for async code, run in a worker thread."""
        import asyncio  # only async callers pay for importing it
        return await asyncio.to_thread(self.save, name, overwrite, _sync=True)

    @classmethod
    async def aload(cls, name: str, validate: bool = True):
        """load() for async code, run in a worker thread."""
        import asyncio  # only async callers pay for importing it
        return await asyncio.to_thread(cls.load, name, validate, _sync=True)

    @classmethod
    async def adelete(cls, name: str) -> None:
        """delete() for async code, run in a worker thread."""
        import asyncio  # only async callers pay for importing it
        await asyncio.to_thread(cls.delete, name, _sync=True)

    @async_dispatch(asave)
    def save(self, name: str, overwrite: bool = False) -> UUID:
        """Save under `name`; secrets go to the secret backend. Returns the document id.

        In async code it returns an awaitable (`await block.save(...)`); see Sync and async.

            >>> from core_blocks import Secret
            >>> Secret(value="hunter2").save("db-password", overwrite=True)  # doctest: +SKIP
            UUID('...')
        """
        from core_blocks.documents import save_block

        return save_block(self, name, overwrite=overwrite)

    @async_dispatch(aload)
    @classmethod
    def load(cls, name: str, validate: bool = True):
        """Load a saved block by name (on Block itself, or an abstract type: 'type-slug/name').

        validate=False skips validation, to repair a document the class no longer fits. In
        async code it returns an awaitable (`await S3Bucket.load("raw")`).
        """
        from core_blocks.documents import load_block

        return load_block(cls, name, validate=validate)

    @async_dispatch(adelete)
    @classmethod
    def delete(cls, name: str) -> None:
        """Delete a saved block and its secrets; refused while another block references it.
        In async code it returns an awaitable."""
        from core_blocks.documents import delete_block

        delete_block(cls, name)

    @classmethod
    def list(cls) -> list[str]:
        """Names of the saved blocks of this type ('type-slug/name' on Block itself)."""
        from core_blocks.documents import list_blocks

        return list_blocks(cls)
