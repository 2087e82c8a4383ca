"""What travels between a flow and its Dask workers: cloudpickle, with every block by name.

A saved block is written as its "type-slug/name" and the receiving process loads it from the
store and the secret backend it shares with the sender, so the bytes Dask sends never hold a
secret value. Refused with BlockTransferError: an unsaved block holding secret values, a saved
one changed since it was saved (the receiver would load the saved version), and a bare
SecretStr/SecretBytes. Blocks without secrets that were never saved travel by value.
"""

from __future__ import annotations

import functools
import io
import pickle
import socket
from typing import Any

import cloudpickle

from prefect_dask.errors import BlockTransferError, WorkerSetupError


def pack(value: Any, what: str) -> bytes:
    """value pickled with blocks by name; `what` names it in a refusal ("the arguments of
    task 'load'")."""
    buffer = io.BytesIO()
    _BlockPickler(buffer, what).dump(value)
    return buffer.getvalue()


def unpack(data: bytes) -> Any:
    """pack()'s value, each block loaded by name (WorkerSetupError when one cannot be)."""
    return pickle.loads(data)


def load_block(ref: str) -> Any:
    """The saved block `ref` ("type-slug/name"), loaded where the bytes are unpickled."""
    from core_blocks.block import Block

    try:
        return Block.load(ref)
    except Exception as exc:
        raise WorkerSetupError(
            f"Block {ref!r} could not be loaded on {socket.gethostname()}: "
            f"{type(exc).__name__}: {_first_line(exc)} Give every worker the flow's store "
            "(CORE_BLOCKS_STORE_URL) and a secret backend holding the block's secrets "
            "(CORE_BLOCKS_SECRET_BACKEND: aws-secrets-manager, env, or file with the shared "
            "key in CORE_BLOCKS_SECRET_KEY).") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else "").rstrip(".") + "."


@functools.cache
def _types() -> tuple[type, tuple[type, ...], Any]:
    # Imported at the first pack: pydantic and the block model are not needed before.
    from pydantic import SecretBytes, SecretStr

    from core_blocks.block_model import BlockModel, secret_fields
    from core_blocks.documents import changed_since_saved

    return BlockModel, (SecretStr, SecretBytes), (secret_fields, changed_since_saved)


class _BlockPickler(cloudpickle.Pickler):
    def __init__(self, file: Any, what: str):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._what = what

    def reducer_override(self, obj: Any) -> Any:
        block_model, secret_types, (secret_fields, changed_since_saved) = _types()
        if isinstance(obj, block_model):
            ref = obj.saved_ref
            if ref is not None:
                if changed_since_saved(obj):
                    raise BlockTransferError(
                        f"Block {ref!r} in {self._what} was changed since it was saved, and a "
                        "worker would load the saved version. Save it first: "
                        f"block.save({obj.saved_name!r}, overwrite=True).")
                return load_block, (ref,)
            held = [f for f in secret_fields(type(obj)) if getattr(obj, f, None) is not None]
            if held:
                raise BlockTransferError(
                    f"An unsaved {obj._block_type_slug} block in {self._what} holds secret "
                    f"values ({', '.join(held)}), which are never sent to Dask workers. Save "
                    "it first (block.save('name')) and pass the saved block: workers load it "
                    "by name.")
        elif isinstance(obj, secret_types):
            raise BlockTransferError(
                f"A {type(obj).__name__} in {self._what} would send its secret value to Dask "
                "workers. Save it as a Secret block (Secret(value=...).save('name')) and pass "
                "that: workers load it by name.")
        return super().reducer_override(obj)
