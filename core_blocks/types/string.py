"""String: one plain, non-secret string."""

from pydantic import Field

from core_blocks.block import Block


class String(Block):
    """A plain string value, such as an environment name or a table prefix.

        >>> String(value="eu-west-1").value
        'eu-west-1'
    """

    _block_type_name = "String"

    value: str = Field(description="The string value")
