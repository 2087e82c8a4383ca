"""A canary secret planted through the CLI and the API must never show up where secrets do not
belong (store file, listings, inspect, logs, reprs, dumps, error text), and must come back
from load() and `inspect --show-secrets` (a backend that lost it would fail here too).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import subprocess
import traceback

import pexpect
import pytest
from cryptography.fernet import Fernet
from pydantic import BaseModel, Field, SecretStr, TypeAdapter, ValidationError

from core_blocks import Block, Secret, Webhook
from core_blocks.errors import (
    BlockExistsError,
    BlockNotFound,
    BlockValidationError,
    NotificationError,
)
from core_blocks.registry import get_registry
from core_blocks.testing import reset_state
from tests.helpers import BLOCKS, plugin_folder
from tests.http_receiver import closed_port_url

VAULT_PLUGIN = '''
from pydantic import Field, SecretBytes, SecretStr
from core_blocks import Block, Secret, SecretDict, hookimpl


class CanaryVault(Block):
    """Every kind of secret field, and a nested Secret block."""

    token: SecretStr = Field(description="An API token")
    blob: SecretBytes = Field(description="A key file")
    options: SecretDict = Field(description="Secret connection options")
    inner: Secret = Field(description="A nested secret block")
    port: int = Field(default=5432, description="A plain number")
    note: str = Field(default="plain", description="A plain string")


@hookimpl
def register_block_types():
    return [CanaryVault]
'''

SECRET_REFS = ["secret/cli-planted", "secret/prompted", "secret/api-planted"]
PLANTED = [*SECRET_REFS, "webhook/cli-hook", "webhook/api-hook", "canary-vault/vault"]


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None):
    stdin = None if input is not None else subprocess.DEVNULL
    environment = {**os.environ, "COLUMNS": "250", **(env or {})}
    return subprocess.run([BLOCKS, *args], input=input, stdin=stdin, capture_output=True,
                          text=True, timeout=60, env=environment)


def ok(*args: str, **kwargs) -> str:
    """stdout + stderr of a successful `blocks` run."""
    result = run(*args, **kwargs)
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout + result.stderr


def pieces(canary: str) -> list[str]:
    """The canary and thirds of its random part: a truncated repr still gives it away."""
    token = canary.removeprefix("canary-")
    return [canary, token[:8], token[8:16], token[16:]]


def hidden(canary: str, text: str) -> bool:
    return not any(piece in text for piece in pieces(canary))


def chain(exc: BaseException) -> list[BaseException]:
    """exc and every exception reachable through __cause__ and __context__."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is not None and all(current is not seen for seen in found):
            found.append(current)
            todo += [current.__cause__, current.__context__]
    return found


def shown(exc: BaseException) -> str:
    """Everything an exception shows or keeps: message, repr, printed traceback, pydantic's
    errors(), for it and every exception chained to it (even a suppressed __context__)."""
    texts = ["".join(traceback.format_exception(exc))]
    for each in chain(exc):
        texts += [str(each), repr(each)]
        if isinstance(each, ValidationError):
            texts.append(repr(each.errors()))
    return "".join(texts)


def vault_values(canary: str) -> dict:
    return {"token": canary, "blob": canary.encode(), "inner": Secret(value=canary),
            "options": {"password": canary, "nested": {"key": canary}}}


@pytest.fixture
def vault_type(tmp_path, monkeypatch):
    """`canary-vault` from a plugin folder, so `blocks` subprocesses can load it too."""
    plugin_folder(tmp_path, monkeypatch, "canary_vault.py", VAULT_PLUGIN)
    return get_registry().block_type("canary-vault")


@pytest.fixture
def planted(canary, vault_type):
    """The canary saved through `--set`, a hidden prompt, `--from-json -` and the API."""
    assert hidden(canary, ok("create", "secret/cli-planted", "--set", f"value={canary}"))

    child = pexpect.spawn(BLOCKS, ["create", "secret/prompted"], encoding="utf-8", timeout=30)
    child.logfile_read = transcript = io.StringIO()
    child.expect("value")
    child.waitnoecho(timeout=10)
    child.sendline(canary)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, transcript.getvalue()
    assert "Saved secret/prompted" in transcript.getvalue()
    assert hidden(canary, transcript.getvalue())

    hook = {"url": f"https://hooks.example.invalid/{canary}",
            "headers": {"Authorization": f"Bearer {canary}"}}
    assert hidden(canary, ok("create", "webhook/cli-hook", "--from-json", "-",
                             input=json.dumps(hook)))

    Secret(value=canary).save("api-planted")
    Webhook(**hook).save("api-hook")
    vault_type(**vault_values(canary)).save("vault")
    return PLANTED


# -- where the canary must not be ----------------------------------------------------------


def test_store_files_never_hold_the_canary(planted, canary, block_home):
    """blocks.db and its -wal/-shm hold neither the canary nor its base64 (SecretBytes)."""
    files = sorted(block_home.glob("blocks.db*"))
    assert {"blocks.db", "blocks.db-wal"} <= {f.name for f in files}
    forms = [p.encode() for p in pieces(canary)] + [base64.b64encode(canary.encode())]
    for path in files:
        data = path.read_bytes()
        for form in forms:
            assert form not in data, path
    for path in block_home.rglob("*"):  # the file backend encrypts: no file holds it in clear
        if path.is_file():
            assert canary.encode() not in path.read_bytes(), path


def test_listings_never_show_the_canary(planted, canary):
    rows = json.loads(ok("ls", "--json"))
    assert {f"{r['type']}/{r['name']}" for r in rows} == set(planted)
    for args in (["ls"], ["ls", "--json"], ["ls", "--all"], ["ls", "--all", "--json"],
                 ["ls", "--type", "secret"]):
        assert hidden(canary, ok(*args)), args


@pytest.mark.parametrize("ref", PLANTED)
def test_inspect_hides_the_canary_and_show_secrets_reveals_it(planted, canary, ref):
    for args in (["inspect", ref], ["inspect", ref, "--json"]):
        output = ok(*args)
        assert hidden(canary, output), args
        assert "********" in output, args
    assert canary in ok("inspect", ref, "--show-secrets")
    assert canary in ok("inspect", ref, "--show-secrets", "--json")


def test_load_reveals_the_canary(planted, canary, vault_type):
    for ref in SECRET_REFS:
        assert Block.load(ref).get() == canary
    for name in ("cli-hook", "api-hook"):
        hook = Webhook.load(name)
        assert canary in hook.url.get_secret_value()
        assert hook.headers.get_secret_value() == {"Authorization": f"Bearer {canary}"}
    vault = vault_type.load("vault")
    assert vault.token.get_secret_value() == canary
    assert vault.blob.get_secret_value() == canary.encode()
    assert vault.options.get_secret_value() == {"password": canary, "nested": {"key": canary}}
    assert vault.inner.get() == canary


def test_repr_str_and_dumps_hide_the_canary(planted, canary, vault_type):
    """Fresh and loaded blocks: repr, str and default dumps obfuscate every secret kind."""
    blocks = [Secret(value=canary),
              Webhook(url=f"https://hooks.example/{canary}", headers={"X-Token": canary}),
              vault_type(**vault_values(canary)), *(Block.load(ref) for ref in planted)]
    for block in blocks:
        for text in (repr(block), str(block), str(block.model_dump()),
                     repr(block.model_dump()), json.dumps(block.model_dump(mode="json")),
                     block.model_dump_json()):
            assert hidden(canary, text), type(block).__name__
        revealed = json.dumps(block.model_dump(mode="json", include_secrets=True))
        assert canary in revealed or base64.b64encode(canary.encode()).decode() in revealed


def test_logs_never_hold_the_canary(canary, vault_type, caplog, monkeypatch):
    """Save, load, overwrite, delete and failures, with core_blocks logging at DEBUG."""
    caplog.set_level(logging.DEBUG, logger="core_blocks")
    Secret(value=canary).save("token")
    Secret(value=canary).save("token", overwrite=True)
    assert Secret.load("token").get() == canary
    Webhook(url=f"https://hooks.example/{canary}", headers={"Authorization": canary}).save("hook")
    Webhook.load("hook")
    vault_type(**vault_values(canary)).save("vault")
    vault_type.load("vault")
    vault_type.delete("vault")
    with pytest.raises(BlockExistsError):
        Secret(value=canary).save("token")
    with pytest.raises(BlockValidationError):
        Webhook(url=canary, timeout_seconds="soon")
    with pytest.raises(BlockNotFound):
        Secret.load("absent")
    key = os.environ["CORE_BLOCKS_SECRET_KEY"]
    monkeypatch.setenv("CORE_BLOCKS_SECRET_KEY", Fernet.generate_key().decode())
    reset_state()
    Secret.delete("token")  # its secret cannot be removed with the wrong key: a warning
    monkeypatch.setenv("CORE_BLOCKS_SECRET_KEY", key)
    reset_state()

    records = [r for r in caplog.records if r.name.startswith("core_blocks")]
    assert any(r.levelno == logging.WARNING and "token" in r.getMessage() for r in records)
    for record in records:
        assert hidden(canary, record.getMessage() + repr(record.args))
    assert hidden(canary, caplog.text)


def test_notify_logs_do_not_hold_the_secret_url(canary, http_receiver, caplog):
    """Webhook url and headers are secret: no logger (httpx's included) may print them."""
    caplog.set_level(logging.DEBUG)
    Webhook(url=f"{http_receiver.url}/hooks/{canary}",
            headers={"Authorization": f"Bearer {canary}"}).notify("disk full")

    assert http_receiver.requests[0]["path"] == f"/hooks/{canary}"
    assert caplog.records
    assert hidden(canary, caplog.text)


def test_run_history_never_holds_the_canary(canary, vault_type, block_home, caplog):
    """Parameters under header-style names, blocks as parameters (saved and not), and an
    error quoting secrets of a received block: none reaches the store, `runs`, or the logs."""
    from core_blocks import flow, task
    from core_blocks.runtime import history

    caplog.set_level(logging.DEBUG, logger="core_blocks")
    vault_type(**vault_values(canary)).save("vault")

    @task
    def use(vault, **headers):
        options = vault.options.get_secret_value()
        raise RuntimeError(f"{vault.inner.get()} / {options['nested']['key']} rejected")

    @flow
    def pipeline(saved, fresh):
        use(fresh, **{"X-Api-Key": canary, "Proxy-Authorization": f"Basic {canary}"})

    state = pipeline(vault_type.load("vault"), vault_type(**vault_values(canary)),
                     return_state=True)
    assert state.is_failed()
    history.flush()
    for path in block_home.glob("blocks.db*"):
        assert canary.encode() not in path.read_bytes(), path
    runs = ok("runs", "ls", "--json")
    assert hidden(canary, runs)
    for run in json.loads(runs):
        shown_run = ok("runs", "show", run["id"], "--json")
        assert hidden(canary, shown_run + ok("runs", "show", run["id"]))
        assert "rejected" in shown_run
    assert hidden(canary, caplog.text)


def test_cached_results_never_hold_the_canary(canary, vault_type, block_home, caplog):
    """A cached task returning secrets (a block, a SecretStr in a dict) writes no cache file;
    one returning plain data is cached 0600."""
    from core_blocks import task, task_input_hash

    @task(cache_key_fn=task_input_hash)
    def fetch(kind):
        if kind == "vault":
            return vault_type(**vault_values(canary))
        if kind == "dict":
            return {"rows": [1], "token": SecretStr(canary)}
        return {"rows": [1]}

    for kind in ("vault", "dict", "plain"):
        fetch(kind)
    files = [p for p in (block_home / "results").rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].stat().st_mode & 0o777 == 0o600
    for path in block_home.rglob("*"):
        if path.is_file():
            assert canary.encode() not in path.read_bytes(), path
    assert hidden(canary, caplog.text)


# -- error text ------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [
    lambda c, v: Secret(value=[c]),
    lambda c, v: Secret(value=c, valeu=c),
    lambda c, v: Webhook(url=c, headers={"Authorization": c}, timeout_seconds="soon"),
    lambda c, v: Webhook(url=c, method=c),
    lambda c, v: Webhook(url=c, headers=[c]),
    lambda c, v: v(**{**vault_values(c), "blob": [c]}),
    lambda c, v: v(**{**vault_values(c), "port": c}),
    lambda c, v: v(**{**vault_values(c), "inner": {"value": [c]}}),
    lambda c, v: v(**{**vault_values(c), "inner": c}),
], ids=["secret-not-a-string", "unknown-field", "webhook-bad-timeout", "webhook-bad-method",
        "secret-dict-not-a-dict", "secret-bytes-wrong-type", "secret-in-int-field",
        "nested-block-invalid", "secret-as-nested-block"])
def test_validation_errors_do_not_echo_the_secret(canary, vault_type, build):
    with pytest.raises(BlockValidationError) as info:
        build(canary, vault_type)
    assert info.value.fields  # names what was wrong
    assert hidden(canary, shown(info.value))


@pytest.mark.parametrize("validate", [
    lambda c: Webhook.model_validate({"url": c, "timeout_seconds": "soon"}),
    lambda c: Secret.model_validate_json(json.dumps({"value": [c]})),
], ids=["model_validate", "model_validate_json"])
def test_pydantic_entry_points_do_not_echo_the_secret(canary, validate):
    """Blocks are pydantic models: model_validate must not quote the secret input either."""
    with pytest.raises(ValueError) as info:
        validate(canary)
    assert hidden(canary, shown(info.value))


def test_our_validation_errors_keep_no_pydantic_error_as_context(canary):
    """`raise ... from None` only hides __context__: pydantic's error (with the input) must
    not be reachable from ours at all."""
    for build in (lambda: Secret(value=[canary]),
                  lambda: Webhook.model_validate({"url": canary, "method": canary}),
                  lambda: setattr(Secret(value="x"), "value", [canary])):
        with pytest.raises(BlockValidationError) as info:
            build()
        assert info.value.__context__ is None and info.value.__cause__ is None
        assert hidden(canary, shown(info.value))


class Settings(BaseModel):
    """A plain pydantic model (not a Block) holding blocks."""

    db: Secret
    hooks: list[Webhook] = []


@pytest.mark.parametrize("validate, loc", [
    (lambda c: Settings(db={"value": [c]}), ("db", "value")),
    (lambda c: Settings(db={"value": c, "valeu": c}), ("db", "valeu")),
    (lambda c: Settings.model_validate_json(json.dumps({"db": {"value": [c]}})),
     ("db", "value")),
    (lambda c: Settings(db=Secret(value="ok"), hooks=[{"url": c, "method": c}]),
     ("hooks", 0, "method")),
    (lambda c: TypeAdapter(Webhook).validate_python({"url": c, "timeout_seconds": "soon"}),
     ("timeout_seconds",)),
    (lambda c: TypeAdapter(Webhook).validate_json(json.dumps({"url": [c]})), ("url",)),
], ids=["plain-model", "plain-model-unknown-field", "plain-model-json", "list-of-blocks",
        "type-adapter", "type-adapter-json"])
def test_a_block_inside_plain_pydantic_validation_does_not_echo_the_secret(canary, validate,
                                                                            loc):
    """Outside our entry points pydantic builds the error, quoting the input it was given:
    the Block hands it errors without inputs (field paths kept)."""
    with pytest.raises(ValidationError) as info:
        validate(canary)
    assert loc in [e["loc"] for e in info.value.errors()]
    assert hidden(canary, shown(info.value))


def test_loading_a_document_the_class_no_longer_fits_does_not_echo_the_secret(canary):
    class Drift(Block):
        _block_type_slug = "canary-drift"
        token: SecretStr = Field(description="A token")

    DriftV1 = Drift
    DriftV1(token=canary).save("drift")

    class Drift(Block):  # the same class statement, edited
        _block_type_slug = "canary-drift"
        token: int = Field(description="Now a number")

    with pytest.raises(BlockValidationError) as info:
        Drift.load("drift")
    assert "canary-drift/drift" in str(info.value) and "'token'" in str(info.value)
    assert hidden(canary, shown(info.value))
    assert DriftV1.load("drift").token.get_secret_value() == canary


def test_failed_notify_does_not_echo_the_secret_url_or_headers(canary, http_receiver):
    """Closed port, an HTTP 403: the error names neither url nor headers; a malformed url is
    refused when the block is made, without naming it either."""
    headers = {"Authorization": f"Bearer {canary}"}
    Webhook(url=f"{closed_port_url()}?token={canary}", headers=headers).save("down")
    http_receiver.status = 403
    with pytest.raises(BlockValidationError) as refused:
        Webhook(url=f"not-a-url-{canary}", headers=headers)
    assert hidden(canary, shown(refused.value)), str(refused.value)
    hooks = [Webhook.load("down"),
             Webhook(url=f"{closed_port_url()}/{canary}", headers=headers),
             Webhook(url=f"{http_receiver.url}/{canary}", headers=headers)]
    errors = []
    for hook in hooks:
        with pytest.raises(NotificationError) as info:
            hook.notify("disk full", subject="db-1")
        errors.append(str(info.value))
        assert hidden(canary, shown(info.value)), str(info.value)
    assert "'down'" in errors[0] and "could not be reached" in errors[0]
    assert "403" in errors[-1]
    assert http_receiver.requests[0]["headers"]["authorization"] == f"Bearer {canary}"


@pytest.mark.parametrize("args, stdin", [
    (["create", "secret/taken", "--set", "value={c}"], None),
    (["create", "webhook/w", "--set", "url={c}", "--set", "timeout_seconds=soon"], None),
    (["create", "webhook/w", "--set", "url={c}", "--set", "method={c}"], None),
    (["create", "webhook/w", "--from-json", "-"], '{{"url": "{c}", "timeout_seconds": "soon"}}'),
    (["--debug", "create", "webhook/w", "--set", "url={c}", "--set", "timeout_seconds=soon"],
     None),
], ids=["name-taken", "bad-timeout", "bad-method", "from-json-stdin", "debug-traceback"])
def test_cli_errors_do_not_echo_the_secret(canary, args, stdin):
    Secret(value="first").save("taken")
    result = run(*(a.format(c=canary) for a in args),
                 input=None if stdin is None else stdin.format(c=canary))
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip()
    assert hidden(canary, result.stdout + result.stderr)


def test_a_malformed_set_does_not_echo_the_secret(canary):
    """`--set value:<secret>` (':' for '='): the error must not print the secret back."""
    result = run("create", "secret/typo", "--set", f"value:{canary}")
    assert result.returncode == 1
    assert "FIELD=VALUE" in result.stderr
    assert hidden(canary, result.stdout + result.stderr)


def _chain(exc: BaseException | None):
    """exc and every exception chained to it (__cause__ and __context__, suppressed or not)."""
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


@pytest.mark.parametrize("url", [
    "postgresql://app:{c}%zz@127.0.0.1:1/db",
    "postgresql://app:{c}@127.0.0.1:notaport/db",
    "postgresql://app:{c}@127.0.0.1:99999/db",
    "postgresql://app:{c}@127.0.0.1:1/db",
    "postgresql://app:{c}@x@127.0.0.1:1/db",
    "postgresql://app:{c}@[::1/db",
    "postgresql://app@127.0.0.1:1/db?password={c}",
    "mysql://app:{c}@127.0.0.1/db",
], ids=["bad-escape", "bad-port", "port-out-of-range", "closed-port", "at-in-password",
        "unclosed-ipv6", "password-in-query", "unsupported-scheme"])
def test_store_url_password_never_shows(canary, url, monkeypatch):
    """A store URL's password stays out of CLI output, error text and chained exceptions."""
    from core_blocks.settings import current

    monkeypatch.setenv("CORE_BLOCKS_STORE_URL", url.format(c=canary))
    reset_state()
    for command in (["ls"], ["doctor"]):
        result = run(*command)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert hidden(canary, result.stdout + result.stderr), command

    with pytest.raises(Exception) as raised:
        Secret.list()
    assert all(hidden(canary, shown(exc)) for exc in _chain(raised.value))
    assert hidden(canary, repr(current()))


IMPOSTOR = """
import sys
from core_blocks import Block

class MyHook(Block):  # claims the core webhook's slug, with its secret url as plain text
    _block_type_name = "Webhook"
    url: str

try:
    MyHook(url=sys.argv[1]).save("impostor")
except Exception as exc:
    print(type(exc).__name__, exc, file=sys.stderr)
    sys.exit(1)
"""


def test_a_class_claiming_the_webhook_slug_cannot_save_its_url_in_clear(canary, block_home):
    """In a fresh process the core Webhook is not imported when MyHook is defined: the save is
    refused, and neither the url nor a rewritten webhook schema reaches the store."""
    import sys

    result = subprocess.run([sys.executable, "-c", IMPOSTOR, f"https://hooks.example/{canary}"],
                            capture_output=True, text=True, timeout=60)

    assert result.returncode == 1
    assert result.stderr.startswith("PluginError __main__.MyHook uses block type slug 'webhook'")
    assert hidden(canary, result.stderr)
    assert canary.encode() not in b"".join(
        p.read_bytes() for p in block_home.iterdir() if p.is_file())
    assert Webhook.list() == []
