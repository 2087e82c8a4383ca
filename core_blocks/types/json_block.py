"""JSON: any JSON-compatible value (not secret)."""

from typing import Any

from pydantic import Field

from core_blocks.block import Block


class JSON(Block):
    """Any JSON value: a dict of settings, a list of table names, a number.

        >>> JSON(value={"tables": ["a", "b"]}).value["tables"]
        ['a', 'b']
    """

    _block_type_name = "JSON"

    value: Any = Field(description="A JSON-compatible value: object, array, string or number")
