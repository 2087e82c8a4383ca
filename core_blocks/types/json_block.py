"""JSON: any JSON-compatible value (not secret)."""

from typing import Any

from pydantic import Field, field_validator

from core_blocks.block import Block


class JSON(Block):
    """Any JSON value: a dict of settings, a list of table names, a number.

        >>> JSON(value={"tables": ["a", "b"]}).value["tables"]
        ['a', 'b']
    """

    _block_type_name = "JSON"

    value: Any = Field(description="A JSON-compatible value: object, array, string or number")

    @field_validator("value")
    @classmethod
    def _numbers_are_finite(cls, value: Any) -> Any:
        from core_blocks.json_numbers import non_finite_at, non_finite_message

        found = non_finite_at(value)
        if found:
            raise ValueError(non_finite_message(found))
        return value
