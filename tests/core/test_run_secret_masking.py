"""Secrets a run reads itself (a block loaded inside a task), quoted by its error in any
encoding, never reach run history: the store, `blocks runs show`, state messages, logs,
artifacts, the result cache; and parameters under secret-looking names are redacted.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
from urllib.parse import quote, quote_plus

import pytest
from pydantic import Field, SecretBytes, SecretStr

from core_blocks import (
    Block,
    Secret,
    SecretDict,
    create_markdown_artifact,
    flow,
    get_run_context,
    task,
)
from core_blocks.runtime import history
from core_blocks.runtime.redaction import REDACTED, secret_name
from core_blocks.secret_values import MIN_MASKED_LENGTH, masked_capped, read_secrets
from core_blocks.store import get_store
from core_blocks.ui import api
from tests.helpers import BLOCKS


class MaskingVault(Block):
    """Every kind of secret field, and a nested block with a secret."""

    token: SecretStr = Field(description="An API token")
    blob: SecretBytes = Field(description="A key file")
    options: SecretDict = Field(description="Secret connection options")
    inner: Secret = Field(description="A nested secret block")


def every_form(secret: str) -> list[str]:
    """How an error may quote a secret: as is, URL-encoded, base64 in both alphabets with and
    without padding, and inside a Basic auth header's base64."""
    data = secret.encode()
    return [secret, quote(secret), quote(secret, safe=""), quote_plus(secret),
            base64.b64encode(data).decode(), base64.b64encode(data).decode().rstrip("="),
            base64.urlsafe_b64encode(data).decode(),
            base64.urlsafe_b64encode(data).decode().rstrip("="),
            base64.b64encode(b"etl:" + data).decode(),
            base64.b64encode(b"x:" + data).decode(), base64.b64encode(b"ab:" + data).decode()]


def leaks(secret: str, text: str) -> list[str]:
    """The forms of secret found in text (the random middle of it is enough to give it away)."""
    middle = secret[len(secret) // 3: 2 * len(secret) // 3]
    return [form for form in [*every_form(secret), middle] if form in text]


def blocks(*args: str) -> str:
    history.flush()
    done = subprocess.run([BLOCKS, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "250"})
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def stored_text(home) -> str:
    history.flush()
    return b"".join(p.read_bytes() for p in home.glob("blocks.db*")).decode("latin-1")


@pytest.fixture
def tricky(canary) -> str:
    """A canary that URL-encoding and base64 both change."""
    return f"{canary}/p@ss word+=&?é"


@pytest.mark.parametrize("field", ["secret", "token", "blob", "options", "nested"])
def test_a_secret_loaded_inside_a_task_is_masked_in_its_history(field, tricky, block_home,
                                                                caplog):
    """Whatever kind of secret field the value was read from, an error quoting it in any of
    its forms is masked in the error, traceback, state messages, logs and `blocks runs show`
    of the task and of the flow the error reaches."""
    caplog.set_level(logging.DEBUG, logger="core_blocks")
    Secret(value=tricky).save("db-password")
    MaskingVault(token=tricky, blob=tricky.encode(), options={"dsn": {"password": tricky}},
          inner=Secret(value=tricky)).save("vault")
    ids = {}

    def read() -> str:
        if field == "secret":
            return Secret.load("db-password").get()
        vault = MaskingVault.load("vault")
        return {"token": lambda: vault.token.get_secret_value(),
                "blob": lambda: vault.blob.get_secret_value().decode(),
                "options": lambda: vault.options.get_secret_value()["dsn"]["password"],
                "nested": lambda: vault.inner.get()}[field]()

    @task
    def connect() -> None:
        ids["task"] = get_run_context().run.id
        pw = read()
        raise RuntimeError(f"bad password {pw}: " + " | ".join(every_form(pw)))

    @flow
    def nightly() -> None:
        ids["flow"] = get_run_context().run.id
        connect()

    state = nightly(return_state=True)
    assert state.is_failed() and REDACTED in state.message
    assert not leaks(tricky, state.message)
    for run_id in (ids["task"], ids["flow"]):
        run = history.get_run(get_store(), run_id)
        assert run["error_message"].startswith(f"bad password {REDACTED}: ")
        assert not leaks(tricky, json.dumps(run))
        assert not leaks(tricky, blocks("runs", "show", run_id))
        assert not leaks(tricky, blocks("runs", "show", run_id, "--json"))
        assert not leaks(tricky, json.dumps(api.get_run(run_id)))  # what the page shows
    assert not leaks(tricky, blocks("runs", "ls", "--json"))
    assert not leaks(tricky, json.dumps(api.list_runs()))
    assert not leaks(tricky, stored_text(block_home))
    assert not leaks(tricky, caplog.text)


def test_a_secret_block_get_is_remembered_whatever_its_source(canary, block_home):
    """A SecretBlock whose get() fetches its value elsewhere (as AwsSecret does from AWS
    Secrets Manager) is masked too, once get() returned it."""

    class RemoteSecret(Secret):
        def get(self) -> str:
            return f"{canary}-remote"

    @task
    def use() -> None:
        raise RuntimeError(f"token {RemoteSecret(value='x' * 8).get()} refused")

    state = use(return_state=True)
    assert state.message == f"RuntimeError: token {REDACTED} refused"
    assert canary not in stored_text(block_home)


def test_parameters_under_secret_names_are_redacted():
    """pwd, dsn, conn_str, connection_string, database_url… are secret names; nearby plain
    names are not."""
    for name in ("pwd", "db_pwd", "dsn", "DSN", "conn_str", "connStr", "connection_string",
                 "ConnectionString", "database_url", "db-url", "api_key", "token", "password",
                 "client_secret", "ssh_key", "jwt", "webhook_url"):
        assert secret_name(name), name
    for name in ("path", "bucket", "key", "cache_key", "url", "host", "port", "cwd",
                 "description", "dsname_count", "pwdx"):
        assert not secret_name(name), name


def test_a_plain_parameter_holding_a_read_secret_is_masked(canary, block_home):
    """A read secret passed on as a plain string under an innocent name is masked in the
    recorded parameters (the name does not say it is secret, the value does)."""
    Secret(value=canary).save("pw")

    @task
    def connect(url: str) -> str:
        return get_run_context().run.id

    @flow
    def nightly() -> str:
        return connect(f"postgresql://etl:{Secret.load('pw').get()}@db/warehouse")

    run = history.get_run(get_store(), nightly())
    assert run["parameters"] == {"url": f"postgresql://etl:{REDACTED}@db/warehouse"}
    assert canary not in stored_text(block_home)


def test_artifacts_and_hook_errors_mask_read_secrets(canary, block_home, caplog):
    """An artifact quoting a read secret, and a hook whose error quotes it."""
    caplog.set_level(logging.DEBUG, logger="core_blocks")
    Secret(value=canary).save("pw")

    def failing_hook(flow_, run, state):
        raise ValueError(f"hook saw {Secret.load('pw').get()}")

    @flow(on_completion=[failing_hook])
    def report() -> None:
        create_markdown_artifact("login", f"logged in with `{Secret.load('pw').get()}`")

    report()
    assert f"hook saw {REDACTED}" in caplog.text
    assert canary not in caplog.text
    assert canary not in stored_text(block_home)
    assert canary not in blocks("artifacts", "show", "login")


def test_a_result_or_cache_key_holding_a_read_secret_is_not_cached(canary, block_home, caplog):
    """The result cache keeps no copy of a read secret: a result holding one is not cached,
    and a cache key holding one is not a file name."""
    Secret(value=canary).save("pw")

    @task(cache_key_fn=lambda context, parameters: f"login-{Secret.load('pw').get()}")
    def login() -> str:
        return "session-1"

    @task(cache_key_fn=lambda context, parameters: "token-v1")
    def token() -> str:
        return f"Bearer {Secret.load('pw').get()}"

    assert login() == "session-1" and login() == "session-1"
    assert token() == f"Bearer {canary}"
    assert "holds a secret" in caplog.text and canary not in caplog.text
    for path in block_home.rglob("*"):
        assert canary not in str(path)
        if path.is_file():
            assert canary.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("value", ["", "x", "on", "abc"])
def test_values_too_short_to_mask_are_left_alone(value):
    """Masking a value of one to three characters would garble every text it appears in."""
    assert MIN_MASKED_LENGTH == 4
    read_secrets.add([value])
    text = "a normal message: on abc x"
    assert masked_capped(text, read_secrets) == text


def test_many_read_secrets_are_all_masked(canary):
    """With hundreds of secrets known (an index picks which to look for), each is masked in
    short and long texts alike, in every form."""
    values = [f"{canary}-{i:03d}" for i in range(300)]
    read_secrets.add(values)
    for secret in (values[0], values[150], values[-1]):
        for form in every_form(secret):
            for text in (f"pw={form};", f"{'x' * 20_000} {form} {'y' * 10}"):
                masked = masked_capped(text, read_secrets, limit=1_000_000)
                assert canary not in masked and REDACTED in masked, form


def test_the_testing_plugin_forgets_read_secrets_between_tests(canary):
    from core_blocks.secret_values import remember_read
    from core_blocks.testing import reset_state

    remember_read({"nested": [canary]})
    assert masked_capped(f"pw {canary}", read_secrets) == f"pw {REDACTED}"
    reset_state()
    assert masked_capped(f"pw {canary}", read_secrets) == f"pw {canary}"


class ApiLogin(Block):
    """A login with a secret key, passed to a task under a secret-looking name."""

    user: str = Field(description="Who logs in")
    key: SecretStr = Field(description="The API key")


def test_a_block_under_a_secret_name_has_its_secrets_masked_in_errors(canary, block_home):
    """A block hidden whole under a secret-looking name still gives its secrets for masking:
    an error quoting one is masked in run history."""

    @task
    def call(auth_settings: ApiLogin) -> None:
        raise RuntimeError(f"refused key {auth_settings.key.get_secret_value()}")

    @flow
    def nightly() -> None:
        call(ApiLogin(user="etl", key=canary))

    state = nightly(return_state=True)
    assert state.is_failed()
    history.flush()
    run = history.list_runs(get_store(), limit=5)
    assert canary not in json.dumps(run, default=str)
    assert canary not in stored_text(block_home)
    assert f"refused key {REDACTED}" in stored_text(block_home)


def test_records_of_child_run_loggers_are_masked(canary, block_home, caplog):
    """A task logging to a child of the run logger (`core_blocks.runs.etl`) is masked too: a
    logger's filters never see its children's records."""
    caplog.set_level(logging.DEBUG, logger="core_blocks")
    Secret(value=canary).save("pw")

    @task
    def connect() -> None:
        logging.getLogger("core_blocks.runs.etl").warning("using %s", Secret.load("pw").get())
        logging.getLogger("core_blocks.runs.etl.deep").error(
            "again", exc_info=ValueError(Secret.load("pw").get()))

    @flow
    def nightly() -> None:
        connect()

    nightly()
    assert f"using {REDACTED}" in caplog.text
    assert "again" in caplog.text
    assert canary not in caplog.text


def test_mask_known_masks_every_secret_the_process_has_read():
    from core_blocks.secret_values import MASK, mask_known, remember_read

    assert mask_known("nothing read yet: hunter2-canary") == "nothing read yet: hunter2-canary"
    remember_read({"password": "hunter2-canary"})
    assert mask_known("login failed for hunter2-canary") == f"login failed for {MASK}"
