"""Secret: one secret string, kept in the secret backend."""

from pydantic import Field, SecretStr

from core_blocks.abstract import SecretBlock


class Secret(SecretBlock):
    """A secret string (a password, a token, an API key) kept in the secret backend.

        >>> Secret(value="hunter2").get()
        'hunter2'
    """

    _block_type_name = "Secret"
    _documentation_url = None

    value: SecretStr = Field(description="The secret value; never shown or stored in the store")

    def get(self) -> str:
        """Return the secret value."""
        return self.value.get_secret_value()
