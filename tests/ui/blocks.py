"""The block type the UI tests create through the page: every kind of form field."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from core_blocks import Block, Secret


class UiWarehouse(Block):
    """A warehouse connection, with every kind of field the form builds."""

    host: str = Field(description="Server host name")
    port: int = Field(5432, gt=0, description="TCP port")
    mode: Literal["read", "write"] = Field("read", description="Access mode")
    tls: bool = Field(True, description="Use TLS")
    options: dict = Field(default_factory=dict, description="Driver options as JSON")
    password: SecretStr = Field(description="Login password")
    login: Secret | None = Field(None, description="A saved secret block with the login")


def failing_flow():
    """A flow that fails, for the run pages: its traceback is recorded."""
    from core_blocks import flow

    @flow(name="nightly-load")
    def nightly_load(day: str):
        raise RuntimeError(f"warehouse unreachable on {day}")

    try:
        nightly_load("2026-11-24")
    except RuntimeError:
        pass
    from core_blocks.runtime import history

    history.flush()
