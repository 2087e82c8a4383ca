"""Which fields `blocks create` asks for on a terminal: required ones in field order, optional
ones when offered (Enter keeps the default), and the fields a block's own rules need; without a
terminal, one line naming the missing fields and the --set options that add them."""

from __future__ import annotations

import subprocess

import pexpect
import pytest

from core_blocks import Block
from core_blocks.store import get_store
from tests.helpers import BLOCKS, finish, plugin_folder
from tests.helpers import spawn_blocks as spawn

LOGIN_PLUGIN = '''
from pydantic import Field, SecretStr, ValidationInfo, field_validator
from core_blocks import Block, hookimpl


class ServiceLogin(Block):
    """A login whose token only makes sense with a user: a rule across two fields."""

    host: str = Field(description="Server host name")
    port: int = Field(default=443, description="Server port")
    login_user: str | None = Field(default=None, description="User name; empty: anonymous")
    login_token: SecretStr | None = Field(default=None, validate_default=True,
                                          description="Token of that user")
    region: str | None = Field(default=None, description="Region")

    @field_validator("login_token")
    @classmethod
    def _token_goes_with_user(cls, value, info: ValidationInfo):
        if (info.data.get("login_user") is None) != (value is None):
            raise ValueError("set it together with login_user, or leave both empty")
        return value


@hookimpl
def register_block_types():
    return [ServiceLogin]
'''


@pytest.fixture
def login_type(tmp_path, monkeypatch):
    plugin_folder(tmp_path, monkeypatch, "service_login.py", LOGIN_PLUGIN)




def prompted(child: pexpect.spawn) -> list[str]:
    """The field names prompted for, in order (a prompt starts with the name and the field's
    description in brackets)."""
    lines = child.transcript.getvalue().replace("\r", "").split("\n")
    names = ("host", "port", "login_user", "login_token", "region")
    return [line.split(" (", 1)[0] for line in lines if line.split(" (", 1)[0] in names]


def test_every_field_is_offered_in_field_order_and_enter_keeps_defaults(login_type, canary):
    child = spawn("create", "service-login/main")
    child.expect(r"host \(Server host name\)")
    child.sendline("api.local")
    child.expect(r"Set optional fields \(port, login_user, login_token, region\)\?")
    child.sendline("y")
    child.expect(r"port \(Server port\) \(Enter: 443\)")
    child.sendline("")
    child.expect(r"login_user .*\(Enter: none\)")
    child.sendline("etl")
    child.expect(r"login_token .*\(Enter: none\)")
    child.waitnoecho(timeout=10)
    child.sendline(canary)
    child.expect(r"region")
    child.sendline("eu")
    assert finish(child) == 0, child.transcript.getvalue()

    assert prompted(child) == ["host", "port", "login_user", "login_token", "region"]
    assert canary not in child.transcript.getvalue()  # typed at a hidden prompt
    saved = Block.load("service-login/main")
    assert (saved.host, saved.port, saved.login_user, saved.region) == ("api.local", 443,
                                                                         "etl", "eu")
    assert saved.login_token.get_secret_value() == canary


def test_a_rule_across_fields_is_asked_for_at_the_prompt(login_type, canary):
    """A user given without a token: skipping the token is explained and asked again."""
    child = spawn("create", "service-login/main")
    child.expect("host")
    child.sendline("api.local")
    child.expect(r"Set optional fields")
    child.sendline("y")
    child.expect("port")
    child.sendline("")
    child.expect("login_user")
    child.sendline("etl")
    child.expect(r"login_token .*: ")
    child.sendline("")
    child.expect(r"Invalid value for field 'login_token' of service-login: set it together "
                 r"with login_user, or leave both empty\. Type it again\.")
    child.expect(r"login_token .*: ")
    child.waitnoecho(timeout=10)
    child.sendline(canary)
    child.expect("region")
    child.sendline("")
    assert finish(child) == 0, child.transcript.getvalue()

    assert Block.load("service-login/main").login_token.get_secret_value() == canary


def test_with_set_the_missing_required_and_rule_fields_are_still_asked(login_type, canary):
    """--set some fields: no optional offer, but host (required) and the token the user
    needs are asked for, the token hidden."""
    child = spawn("create", "service-login/main", "--set", "login_user=etl")
    child.expect(r"host \(Server host name\): ")
    child.sendline("api.local")
    child.expect(r"login_token is needed: set it together with login_user, or leave both "
                 r"empty\.")
    child.expect(r"login_token \(Token of that user\): ")
    child.waitnoecho(timeout=10)
    child.sendline(canary)
    assert finish(child) == 0, child.transcript.getvalue()

    assert prompted(child) == ["host", "login_token"]
    assert "Set optional fields" not in child.transcript.getvalue()
    saved = Block.load("service-login/main")
    assert saved.login_user == "etl" and saved.login_token.get_secret_value() == canary


@pytest.mark.parametrize("sets, message", [
    (["--set", "port=8443"],
     "Missing required field(s) for service-login/main: host. Add --set host=VALUE or use "
     "--from-json FILE (there is no terminal to prompt on)."),
    (["--set", "host=api.local", "--set", "login_user=etl"],
     "Missing field(s) for service-login/main: login_token (set it together with login_user, "
     "or leave both empty). Add --set login_token=VALUE or use --from-json FILE (there is no "
     "terminal to prompt on)."),
], ids=["required", "rule"])
def test_without_a_terminal_the_missing_fields_and_their_set_are_one_line(login_type, sets,
                                                                          message):
    result = subprocess.run([BLOCKS, "create", "service-login/main", *sets], text=True,
                            capture_output=True, stdin=subprocess.DEVNULL, timeout=60)

    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"Error: {message}\n"
    assert get_store().list_documents(include_anonymous=True) == []
