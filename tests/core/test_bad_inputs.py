"""Bad inputs: each one is a single exact message (CLI: exit 1, one stderr line) and saves nothing.

Every case runs the `blocks` CLI in a subprocess and, where the API has the same path, calls it
in-process; before and after, the store's documents and journal and the secret files are
snapshotted and must be unchanged.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import Field

from core_blocks import Block, Secret, String, Webhook
from core_blocks.diagnostics import run_checks
from core_blocks.documents import class_for_slug
from core_blocks.errors import (
    BlockConflictError,
    BlockExistsError,
    BlockNameError,
    BlockNotFound,
    BlockTypeNotFound,
    BlockValidationError,
    CoreBlocksError,
    HomeFolderError,
    SecretBackendError,
    StoreError,
)
from core_blocks.registry import get_registry
from core_blocks.testing import reset_state
from tests.helpers import BLOCKS, file_backend_rows

OTHER_KEY = Fernet.generate_key().decode()  # a valid key, but not the one secrets.db uses
NAME_RULE = ("use lowercase letters, digits and single dashes, starting and ending with a letter "
             "or digit, at most 100 characters (e.g. 'prod-db').")
KEY_HELP = ('generate one with: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"')
MISSING_SDK = "not_installed_sdk_for_core_blocks_tests"

WAREHOUSE_PLUGIN = '''
from pydantic import Field, SecretStr

from core_blocks import Block, hookimpl


class Warehouse(Block):
    """Connection settings for the analytics warehouse."""

    host: str = Field(description="Server host name")
    port: int = Field(default=5432, description="Server port")
    password: SecretStr = Field(description="Login password")


@hookimpl
def register_block_types():
    return [Warehouse]
'''

BROKEN_PLUGIN = f'''
import {MISSING_SDK}  # an SDK imported at module level, and not installed

from core_blocks import hookimpl


@hookimpl
def register_block_types():
    return []
'''


_SLUGS = r"[a-z0-9-]+(?:, [a-z0-9-]+)*"
_PLUGINS = r"[\w:.-]+(?:, [\w:.-]+)*"


def unknown_type(slug: str, suggests: str | None = None, failed: str | None = None) -> re.Pattern:
    """The unknown-type message. Installed integrations may add close slugs and failing
    entry-point plugins, so the suggestion must be among those listed, and a `failed` plugin
    among the failed ones; without `failed`, only entry-point plugins may be listed."""
    hint = (rf" Did you mean: (?:{_SLUGS}, )?{re.escape(suggests)}(?:, {_SLUGS})?\?"
            if suggests else "")
    plugins = (rf" Plugins that failed to load: (?:{_PLUGINS}, )?{re.escape(failed)}"
               rf"(?:, {_PLUGINS})?\." if failed
               else r"(?: Plugins that failed to load: (?!file:)[\w.-]+(?:, (?!file:)[\w.-]+)*\.)?")
    return re.compile(rf"Unknown block type {re.escape(repr(slug))}\.{hint} "
                      rf"See all types with: blocks types\.{plugins}")


def same_message(expected: str | re.Pattern, actual: str, home: Path) -> bool:
    if isinstance(expected, re.Pattern):
        return expected.fullmatch(actual) is not None
    return actual == expected.format(home=home)


def blocks_cli(*argv: str, stdin: str = "") -> subprocess.CompletedProcess:
    """The real `blocks` console script, without a terminal, in the current environment."""
    return subprocess.run([str(BLOCKS), *argv], input=stdin, capture_output=True, text=True,
                          timeout=120)


def snapshot(home: Path) -> dict:
    """Documents, journal and secret files: everything a half-finished save would change."""
    state: dict = {}
    db = home / "blocks.db"
    if db.exists():
        try:
            with sqlite3.connect(db) as con:
                state["documents"] = con.execute(
                    "SELECT id, type_slug, name, version, secret_key, secret_backend, data"
                    " FROM block_documents ORDER BY id").fetchall()
                state["journal"] = con.execute("SELECT * FROM secret_journal").fetchall()
            con.close()
        except sqlite3.DatabaseError:
            state["unreadable store"] = db.read_bytes()
    state["secrets.db"] = file_backend_rows(home) if (home / "secrets.db").exists() else None
    key = home / "secret.key"
    state["secret.key"] = key.read_bytes() if key.exists() else None
    return state


# -- set-ups --------------------------------------------------------------------------------


def _two_more_secrets(home: Path) -> None:
    Secret(value="alpha-value").save("alpha")
    Secret(value="beta-value").save("beta")


def _corrupt_store(home: Path) -> None:
    reset_state()  # close this process's connection (and its WAL) first
    for extra in ("blocks.db-wal", "blocks.db-shm"):
        (home / extra).unlink(missing_ok=True)
    (home / "blocks.db").write_bytes(b"this is not an SQLite database\n" * 200)


def _warehouse_saved_then_changed(home: Path) -> None:
    """Save with the plugin's first version, then add a required field to the class."""
    from core_blocks.registry import import_file

    _plugin("plugins-wh", "warehouse", WAREHOUSE_PLUGIN)(home)
    path = home / "plugins-wh" / "warehouse.py"
    import_file(path).Warehouse(host="db", password="pw").save("analytics")
    path.write_text(WAREHOUSE_PLUGIN.replace(
        "    port: int", '    database: str = Field(description="Database name")\n    port: int'))


PROFILES_YML = """
shop:
  target: dev
  outputs:
    dev: {type: duckdb, path: shop.duckdb}
    prod: {type: postgres, host: db, user: etl, pass: pw-5e1d, dbname: shop, schema: mart}
"""


def _needs(package: str) -> pytest.MarkDecorator:
    """Cases of an integration's blocks (none imports its SDK) run where it is installed."""
    return pytest.mark.skipif(importlib.util.find_spec(package) is None,
                              reason=f"{package} is not installed")


_NEEDS_DBT = _needs("prefect_dbt")
_URL_RULE = "must be an http:// or https:// URL, e.g. https://hooks.example.com/T0; this one"
_BUCKET_RULE = ("must follow S3's bucket naming rules: 3 to 63 lowercase letters, digits, dots "
                "and hyphens, starting and ending with a letter or digit, not shaped like an IP "
                "address (e.g. 'raw-data').")
_SLACK_RULE = ("must be the webhook's https:// URL, e.g. https://hooks.slack.com/services/T0/B0/"
               "XXXX; this one")


def _integration_type(slug: str) -> Callable[..., object]:
    """A constructor of an integration's block type, looked up when the case runs."""
    return lambda **values: class_for_slug(slug)(**values)


def _dbt_profile_imported(home: Path) -> None:
    """profiles.yml in home, its prod target already imported as dbt-cli-profile/shop-prod."""
    (home / "profiles.yml").write_text(PROFILES_YML)
    done = blocks_cli("dbt", "import-profiles", str(home / "profiles.yml"), "--target", "prod")
    assert done.returncode == 0, done.stderr


def _plugin(folder: str, stem: str, source: str) -> Callable[[Path], None]:
    def setup(home: Path) -> None:
        (home / folder).mkdir()
        (home / folder / f"{stem}.py").write_text(source)
    return setup


class BastionTunnel(Block):
    """An SSH hop: the nested block whose own fields an error must list."""

    host: str = Field(description="Bastion host name")
    port: int = Field(default=22, description="SSH port")


class ProxyHop(Block):
    """An HTTP proxy hop, the other member of Gateway.via's union."""

    url: str = Field(description="Proxy URL")


class Gateway(Block):
    """A way in, through one nested hop."""

    title: str = Field(description="Display name")
    via: BastionTunnel = Field(description="The hop")
    either: BastionTunnel | ProxyHop | None = Field(default=None, description="Either hop")


# A copy loaded before someone else deleted (and maybe re-created) it; set up per case.
_stale: dict[str, String] = {}


def _loaded_then_deleted(recreate: bool) -> Callable[[Path], None]:
    def setup(home: Path) -> None:
        String(value="v1").save("c2")
        _stale["c2"] = String.load("c2")
        String.delete("c2")
        if recreate:
            String(value="by-b").save("c2")
    return setup


def _save_stale() -> None:
    stale = _stale.pop("c2")
    stale.value = "by-a"
    stale.save("c2", overwrite=True)


@dataclass(frozen=True)
class Bad:
    argv: tuple[str, ...] | None  # a `blocks` command line, or None for API only
    cli: str | re.Pattern | None  # its one stderr line after "Error: " ({home} filled in)
    api: Callable[[], object] | None = None  # the same mistake through the Python API
    error: type[CoreBlocksError] | None = None
    api_message: str | re.Pattern | None = None  # when the API words it differently from the CLI
    env: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Path], None] | None = None
    hidden: str | None = None  # a value the user gave that no message may repeat
    fields: tuple[str, ...] | None = None  # BlockValidationError.fields


_WRONG_KEY = ("Cannot decrypt the secret file {home}/secrets.db with the key from "
              "CORE_BLOCKS_SECRET_KEY: it is not the key the file was written with. Set "
              "CORE_BLOCKS_SECRET_KEY to the right key; nothing was changed.")
_CORRUPT = ("The block store {home}/blocks.db is not a readable SQLite database (file is not a "
            "database). Move it aside (it is then replaced by an empty store) or restore it "
            "from a backup.")
_HOOK = "https://hooks.example/T0"
_NOT_A_FOLDER = ("Cannot use the core-blocks folder {home}/not-a-folder{under}: {what} a file, "
                 "not a folder. Move the file aside or set CORE_BLOCKS_HOME to a folder.")
_URL_PASSWORD = "pw-7f3a-hidden"  # must not appear in any message about the URL


def _file_at_home(home: Path) -> None:
    (home / "not-a-folder").write_text("a file where CORE_BLOCKS_HOME should be a folder\n")


def _cannot_connect(shown_url: str) -> re.Pattern:
    """The driver's reason varies by psycopg version; the frame around it does not."""
    return re.compile(rf"Cannot connect to the block store {re.escape(shown_url)}: [^\n]+\. "
                      r"Check CORE_BLOCKS_STORE_URL and that the server is running\.")


def _home_cases() -> list:
    cases = []
    for under, what in (("", "it is"), ("/home", "{home}/not-a-folder is")):
        message = _NOT_A_FOLDER.replace("{under}", under).replace("{what}", what)
        env = {"CORE_BLOCKS_HOME": "{home}/not-a-folder" + under}
        label = "home-under-a-file" if under else "home-is-a-file"
        cases += [
            pytest.param(Bad(("ls",), message, lambda: Secret.list(), HomeFolderError,
                             env=env, setup=_file_at_home), id=f"{label}-ls"),
            pytest.param(Bad(("create", "secret/new", "--set", "value=v"), message,
                             lambda: Secret(value="v").save("new"), HomeFolderError,
                             env=env, setup=_file_at_home), id=f"{label}-create"),
            pytest.param(Bad(("doctor",), message, lambda: run_checks(), HomeFolderError,
                             env=env, setup=_file_at_home), id=f"{label}-doctor"),
        ]
    return cases


def _store_url_cases() -> list:
    urls = {
        "bad-escape": (f"postgresql://app:{_URL_PASSWORD}%zz@127.0.0.1:1/db",
                       "postgresql://127.0.0.1:1/db"),
        "bad-port": (f"postgresql://app:{_URL_PASSWORD}@127.0.0.1:notaport/db",
                     "postgresql://127.0.0.1:notaport/db"),
        "port-out-of-range": (f"postgresql://app:{_URL_PASSWORD}@127.0.0.1:99999/db",
                              "postgresql://127.0.0.1:99999/db"),
        "closed-port": (f"postgresql://app:{_URL_PASSWORD}@127.0.0.1:1/db",
                        "postgresql://127.0.0.1:1/db"),
        "at-in-password": (f"postgresql://app:{_URL_PASSWORD}@x@127.0.0.1:1/db",
                           "postgresql://127.0.0.1:1/db"),
        "unclosed-ipv6": (f"postgresql://app:{_URL_PASSWORD}@[::1/db", "postgresql://[::1/db"),
    }
    return [pytest.param(Bad(("ls",), _cannot_connect(shown), lambda: Secret.list(),
                             StoreError, env={"CORE_BLOCKS_STORE_URL": url},
                             hidden=_URL_PASSWORD), id=f"store-url-{label}")
            for label, (url, shown) in urls.items()]


CASES = [
    pytest.param(Bad(
        ("create", "secrte/x", "--set", "value=v"),
        unknown_type("secrte", suggests="secret"),
        lambda: class_for_slug("secrte"), BlockTypeNotFound,
    ), id="unknown-type-suggests-secret"),
    pytest.param(Bad(
        ("schema", "webhok"),
        unknown_type("webhok", suggests="webhook"),
        lambda: class_for_slug("webhok"), BlockTypeNotFound,
    ), id="unknown-type-suggests-webhook"),
    pytest.param(Bad(
        ("create", "zzzzqqq/x"),
        unknown_type("zzzzqqq"),
        lambda: class_for_slug("zzzzqqq"), BlockTypeNotFound,
    ), id="unknown-type-nothing-close"),
    pytest.param(Bad(
        ("inspect", "secret/gamma"),
        "No secret block named 'gamma'. Saved secret blocks: alpha, beta, existing. "
        "Create it with: blocks create secret/gamma",
        lambda: Secret.load("gamma"), BlockNotFound, setup=_two_more_secrets,
    ), id="missing-block-lists-saved"),
    pytest.param(Bad(
        ("delete", "secret/gamma", "--yes"),
        "No secret block named 'gamma'. Saved secret blocks: alpha, beta, existing. "
        "Create it with: blocks create secret/gamma",
        lambda: Secret.delete("gamma"), BlockNotFound, setup=_two_more_secrets,
    ), id="missing-block-delete"),
    pytest.param(Bad(
        ("inspect", "webhook/alerts"),
        "No webhook block named 'alerts'. Saved webhook blocks: none. "
        "Create it with: blocks create webhook/alerts",
        lambda: Block.load("webhook/alerts"), BlockNotFound,
    ), id="missing-block-none-saved"),
    pytest.param(Bad(
        ("create", "webhook/hook", "--set", f"url={_HOOK}",
         "--set", "timeout_seconds=not-a-number-7f3a"),
        # A number field says it wants a number, never repeating the text typed.
        "--set value for field 'timeout_seconds' of webhook must be a number, e.g. 2.5.",
        lambda: Webhook(url=_HOOK, timeout_seconds="not-a-number-7f3a"), BlockValidationError,
        api_message="Invalid webhook block: field 'timeout_seconds': Input should be a valid "
                    "number, unable to parse string as a number.",
        hidden="not-a-number-7f3a", fields=("timeout_seconds",),
    ), id="field-not-a-number"),
    pytest.param(Bad(
        ("create", "warehouse/analytics", "--set", "host=db", "--set", "password=pw",
         "--set", "port=abc"),
        "--set value for field 'port' of warehouse must be an integer, e.g. 42.",
        env={"CORE_BLOCKS_PLUGINS_DIRS": "{home}/plugins-wh"},
        setup=_plugin("plugins-wh", "warehouse", WAREHOUSE_PLUGIN), hidden="abc",
    ), id="field-not-an-integer"),
    pytest.param(Bad(
        ("inspect", "webhok/alerts"),
        unknown_type("webhok", suggests="webhook"),
        lambda: Block.load("webhok/alerts"), BlockTypeNotFound,
    ), id="inspect-unknown-type-suggests-webhook"),
    pytest.param(Bad(
        ("delete", "webhok/alerts", "--yes"),
        unknown_type("webhok", suggests="webhook"),
        lambda: Block.delete("webhok/alerts"), BlockTypeNotFound,
    ), id="delete-unknown-type-suggests-webhook"),
    pytest.param(Bad(
        ("concurrency", "set", "db", "-1"),
        "The limit must be 0 or more slots, not -1; e.g. blocks concurrency set db 2.",
    ), id="concurrency-limit-negative"),
    pytest.param(Bad(
        ("dbt", "import-profiles", "{home}/profiles.yml", "--target", "prod"),
        "dbt-cli-profile/shop-prod already exists; nothing was saved. Pass --overwrite to "
        "replace it or --name to save it under another name.",
        setup=_dbt_profile_imported, hidden="pw-5e1d",
    ), id="dbt-import-profiles-existing", marks=_NEEDS_DBT),
    pytest.param(Bad(
        ("dbt", "import-profiles", "{home}/profiles.yml"),
        "dbt-cli-profile/shop-prod already exists; nothing was saved. Pass --overwrite to "
        "replace it.",
        setup=_dbt_profile_imported, hidden="pw-5e1d",
    ), id="dbt-import-profiles-existing-among-several", marks=_NEEDS_DBT),
    pytest.param(Bad(
        ("create", "webhook/hook", "--set", "url=not a url-3c9d"),
        f"Invalid webhook block: field 'url': {_URL_RULE} has no http:// or https:// scheme.",
        lambda: Webhook(url="not a url-3c9d"), BlockValidationError,
        hidden="url-3c9d", fields=("url",),
    ), id="webhook-url-not-a-url"),
    pytest.param(Bad(
        ("create", "webhook/hook", "--set", "url=https://hooks.example:80x/T-3c9d"),
        f"Invalid webhook block: field 'url': {_URL_RULE} has a malformed host or port.",
        lambda: Webhook(url="https://hooks.example:80x/T-3c9d"), BlockValidationError,
        hidden="T-3c9d", fields=("url",),
    ), id="webhook-url-bad-port"),
    pytest.param(Bad(
        ("create", "s3-bucket/raw", "--set", "bucket_name=My_Bucket!!"),
        f"Invalid s3-bucket block: field 'bucket_name': {_BUCKET_RULE}",
        lambda: _integration_type("s3-bucket")(bucket_name="My_Bucket!!"),
        BlockValidationError, fields=("bucket_name",),
    ), id="s3-bucket-name-breaks-s3-rules", marks=_needs("prefect_aws")),
    pytest.param(Bad(
        ("create", "s3-bucket/raw", "--set", "bucket_name=10.0.0.1"),
        f"Invalid s3-bucket block: field 'bucket_name': {_BUCKET_RULE}",
        lambda: _integration_type("s3-bucket")(bucket_name="10.0.0.1"),
        BlockValidationError, fields=("bucket_name",),
    ), id="s3-bucket-name-is-an-ip-address", marks=_needs("prefect_aws")),
    pytest.param(Bad(
        ("create", "aws-credentials/temp", "--set", "aws_session_token=token-3c9d"),
        "Missing field(s) for aws-credentials/temp: aws_access_key_id, aws_secret_access_key "
        "(set it only with aws_access_key_id and aws_secret_access_key: a session token "
        "belongs to the temporary keys issued with it). Add --set aws_access_key_id=VALUE "
        "--set aws_secret_access_key=VALUE or use --from-json FILE (there is no terminal to "
        "prompt on).",
        lambda: _integration_type("aws-credentials")(aws_session_token="token-3c9d"),
        BlockValidationError,
        api_message="Invalid aws-credentials block: field 'aws_session_token': set it only "
                    "with aws_access_key_id and aws_secret_access_key: a session token belongs "
                    "to the temporary keys issued with it.",
        hidden="token-3c9d", fields=("aws_session_token",),
    ), id="aws-session-token-without-keys", marks=_needs("prefect_aws")),
    pytest.param(Bad(
        ("create", "slack-webhook/alerts", "--set",
         "url=http://hooks.slack.com/services/T0/B0/X-3c9d"),
        f"Invalid slack-webhook block: field 'url': {_SLACK_RULE} is http://, which sends it "
        "unencrypted; use https://.",
        lambda: _integration_type("slack-webhook")(
            url="http://hooks.slack.com/services/T0/B0/X-3c9d"),
        BlockValidationError, hidden="X-3c9d", fields=("url",),
    ), id="slack-webhook-url-not-https", marks=_needs("prefect_slack")),
    pytest.param(Bad(
        ("create", "docker-registry-credentials/ci", "--set", "username=ci",
         "--set", "password=pw-3c9d", "--set", "registry_url=my registry:5000"),
        "Invalid docker-registry-credentials block: field 'registry_url': must be a registry "
        "address such as registry.example.com:5000, without a repository path.",
        lambda: _integration_type("docker-registry-credentials")(
            username="ci", password="pw-3c9d", registry_url="my registry:5000"),
        BlockValidationError, hidden="pw-3c9d", fields=("registry_url",),
    ), id="docker-registry-url-with-a-space", marks=_needs("prefect_docker")),
    pytest.param(Bad(
        ("create", "dbt-cli-target-configs/dev", "--set", "type=Postgres SQL",
         "--set", "schema_=mart"),
        "Invalid dbt-cli-target-configs block: field 'type': must be a dbt adapter name in "
        "lowercase, e.g. postgres, duckdb, snowflake or bigquery.",
        lambda: _integration_type("dbt-cli-target-configs")(type="Postgres SQL", schema="mart"),
        BlockValidationError, fields=("type",),
    ), id="dbt-target-type-not-an-adapter-name", marks=_NEEDS_DBT),
    pytest.param(Bad(
        ("create", "webhook/hook", "--set", f"url={_HOOK}", "--set", "timeout_seconds=-7.25"),
        "Invalid webhook block: field 'timeout_seconds': Input should be greater than 0.",
        lambda: Webhook(url=_HOOK, timeout_seconds=-7.25), BlockValidationError,
        hidden="7.25", fields=("timeout_seconds",),
    ), id="field-out-of-range"),
    pytest.param(Bad(
        ("create", "webhook/hook", "--set", f"url={_HOOK}", "--set", "method=YEET"),
        "Invalid webhook block: field 'method': Input should be 'POST', 'PUT', 'PATCH', 'GET' "
        "or 'DELETE'.",
        lambda: Webhook(url=_HOOK, method="YEET"), BlockValidationError,
        hidden="YEET", fields=("method",),
    ), id="field-not-a-choice"),
    pytest.param(Bad(
        ("create", "secret/new", "--set", "value=v", "--set", "colour=red"),
        "'colour' is not a field of secret; its fields: value.",
        lambda: Secret(value="v", colour="red"), BlockValidationError,
        api_message="Invalid secret block: 'colour' is not a field (fields: value).",
        fields=("colour",),
    ), id="unknown-field"),
    pytest.param(Bad(
        None, None,
        lambda: Gateway(title="g", via={"host": "h", "nope": "nested-value-9c1e"}),
        BlockValidationError,
        api_message="Invalid gateway block: 'via.nope' is not a field (fields: host, port).",
        hidden="nested-value-9c1e", fields=("via.nope",),
    ), id="unknown-nested-field-lists-the-child-fields"),
    pytest.param(Bad(
        None, None,
        lambda: Gateway(title="g", via=BastionTunnel(host="h"), either={"host": "h", "nope": 1}),
        BlockValidationError,
        api_message="Invalid gateway block: 'either.BastionTunnel.nope' is not a field "
                    "(fields: host, port); field 'either.ProxyHop.url' is required; "
                    "'either.ProxyHop.host' is not a field (fields: url); "
                    "'either.ProxyHop.nope' is not a field (fields: url).",
        fields=("either.BastionTunnel.nope", "either.ProxyHop.url", "either.ProxyHop.host",
                "either.ProxyHop.nope"),
    ), id="unknown-nested-field-in-a-union-lists-each-member-fields"),
    pytest.param(Bad(
        ("create", "secret/Prod_DB", "--set", "value=v"),
        f"Invalid block name 'Prod_DB': {NAME_RULE}",
        lambda: Secret(value="v").save("Prod_DB"), BlockNameError,
    ), id="name-uppercase-underscore"),
    pytest.param(Bad(
        ("create", "secret/prod--db", "--set", "value=v"),
        f"Invalid block name 'prod--db': {NAME_RULE}",
        lambda: Secret(value="v").save("prod--db"), BlockNameError,
    ), id="name-double-dash"),
    pytest.param(Bad(
        ("create", "secret/" + "a" * 101, "--set", "value=v"),
        f"Invalid block name '{'a' * 101}': {NAME_RULE}",
        lambda: Secret(value="v").save("a" * 101), BlockNameError,
    ), id="name-too-long"),
    pytest.param(Bad(
        ("create", "secret", "--set", "value=v"),
        "Invalid block reference 'secret': write it as TYPE/NAME, e.g. 'secret/prod-db'.",
        lambda: Block.load("secret/"), BlockNameError,
        api_message="Invalid block reference 'secret/': write it as TYPE/NAME, "
                    "e.g. 'secret/prod-db'.",
    ), id="reference-without-name"),
    pytest.param(Bad(
        ("create", "secret/existing", "--set", "value=v"),
        "A secret block named 'existing' already exists. Save with overwrite=True "
        "(CLI: blocks create secret/existing --overwrite), or pick another name.",
        lambda: Secret(value="v").save("existing"), BlockExistsError,
    ), id="name-taken"),
    pytest.param(Bad(
        None, None, _save_stale, BlockConflictError,
        api_message="string/c2 was deleted and saved again by someone else since it was "
                    "loaded; overwriting would lose their block. Load it again, reapply your "
                    "change and save.",
        setup=_loaded_then_deleted(recreate=True),
    ), id="stale-save-after-delete-and-re-create"),
    pytest.param(Bad(
        None, None, _save_stale, BlockConflictError,
        api_message="string/c2 was deleted since it was loaded; saving it with overwrite=True "
                    "would bring it back. To create it again anyway, save with overwrite=False.",
        setup=_loaded_then_deleted(recreate=False),
    ), id="stale-save-after-delete"),
    pytest.param(Bad(
        ("delete", "secret/existing"),
        "Refusing to delete secret/existing without confirmation: pass --yes.",
    ), id="delete-without-confirmation"),
    pytest.param(Bad(
        ("create", "secret/new", "--set", "value=v"), _WRONG_KEY,
        lambda: Secret(value="v").save("new"), SecretBackendError,
        env={"CORE_BLOCKS_SECRET_KEY": OTHER_KEY},
    ), id="wrong-key-on-save"),
    pytest.param(Bad(
        ("inspect", "secret/existing", "--show-secrets"), _WRONG_KEY,
        lambda: Secret.load("existing"), SecretBackendError,
        env={"CORE_BLOCKS_SECRET_KEY": OTHER_KEY},
    ), id="wrong-key-on-load"),
    pytest.param(Bad(
        ("create", "secret/new", "--set", "value=v"),
        f"The 'file' secret backend is not usable: CORE_BLOCKS_SECRET_KEY is not a Fernet key; "
        f"{KEY_HELP}. Set CORE_BLOCKS_SECRET_BACKEND to another backend (keyring, file, env).",
        lambda: Secret(value="v").save("new"), SecretBackendError,
        env={"CORE_BLOCKS_SECRET_KEY": "not-a-fernet-key"}, hidden="not-a-fernet-key",
    ), id="malformed-key"),
    pytest.param(Bad(
        ("ls",), _CORRUPT, lambda: Secret.list(), StoreError, setup=_corrupt_store,
    ), id="corrupt-store-ls"),
    pytest.param(Bad(
        ("create", "secret/new", "--set", "value=v"), _CORRUPT,
        lambda: Secret(value="v").save("new"), StoreError, setup=_corrupt_store,
    ), id="corrupt-store-create"),
    pytest.param(Bad(
        ("create", "teams-alert/x", "--set", "url=u"),
        unknown_type("teams-alert", failed="file:broken_sdk"),
        lambda: class_for_slug("teams-alert"), BlockTypeNotFound,
        env={"CORE_BLOCKS_PLUGINS_DIRS": "{home}/plugins-broken"},
        setup=_plugin("plugins-broken", "broken_sdk", BROKEN_PLUGIN),
    ), id="plugin-raises-on-import"),
    pytest.param(Bad(
        ("create", "warehouse/analytics", "--set", "port=5433"),
        "Missing required field(s) for warehouse/analytics: host, password. Add --set "
        "host=VALUE --set password=VALUE or use --from-json FILE (there is no terminal to "
        "prompt on).",
        lambda: get_registry().block_type("warehouse")(port=5433), BlockValidationError,
        api_message="Invalid warehouse block: field 'host' is required; "
                    "field 'password' is required.",
        env={"CORE_BLOCKS_PLUGINS_DIRS": "{home}/plugins-wh"},
        setup=_plugin("plugins-wh", "warehouse", WAREHOUSE_PLUGIN), fields=("host", "password"),
    ), id="create-without-tty-missing-fields"),
    pytest.param(Bad(
        ("inspect", "warehouse/analytics", "--show-secrets"),
        "The warehouse/analytics block was saved with another version of Warehouse: field "
        "'database' is required. Load it with Warehouse.load('analytics', validate=False), set "
        "'database', then save('analytics', overwrite=True).",
        lambda: Block.load("warehouse/analytics"), BlockValidationError,
        env={"CORE_BLOCKS_PLUGINS_DIRS": "{home}/plugins-wh"},
        setup=_warehouse_saved_then_changed, hidden="pw", fields=("database",),
    ), id="saved-document-no-longer-fits"),
    pytest.param(Bad(
        ("create", "secret/new", "--set", "value=v"),
        # Installed integrations may add backends (e.g. aws-secrets-manager) to the list.
        re.compile(r"Unknown secret backend 'vault' \(CORE_BLOCKS_SECRET_BACKEND\)\. "
                   r"Available: auto, (?:[a-z-]+, )*env, file, keyring(?:, [a-z-]+)*\."),
        lambda: Secret(value="v").save("new"), SecretBackendError,
        env={"CORE_BLOCKS_SECRET_BACKEND": "vault"},
    ), id="unknown-secret-backend"),
    pytest.param(Bad(
        ("create", "secret/new", "--set", "value=v"),
        "Cannot save the secrets of secret/new: the 'env' secret backend is read-only. "
        "Save blocks where CORE_BLOCKS_SECRET_BACKEND is keyring or file.",
        lambda: Secret(value="v").save("new"), SecretBackendError,
        env={"CORE_BLOCKS_SECRET_BACKEND": "env"},
    ), id="env-backend-is-read-only"),
    *_home_cases(),
    *_store_url_cases(),
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_exact_error_and_saves_nothing(case: Bad, block_home, monkeypatch,
                                                        canary):
    """CLI and API give the exact message; documents, journal and secret files are untouched."""
    Secret(value=canary).save("existing")
    if case.setup:
        case.setup(block_home)
    for name, value in case.env.items():
        monkeypatch.setenv(name, value.format(home=block_home))
    reset_state()
    before = snapshot(block_home)
    assert before["secrets.db"] is not None

    if case.argv is not None:
        result = blocks_cli(*(arg.replace("{home}", str(block_home)) for arg in case.argv))
        assert result.returncode == 1, result
        [line] = result.stderr.splitlines()
        assert line.startswith("Error: ") and same_message(case.cli, line[7:], block_home), line
        assert result.stdout == ""
        assert canary not in result.stderr
        if case.hidden:
            assert case.hidden not in result.stderr
        assert snapshot(block_home) == before

    if case.api is not None:
        with pytest.raises(case.error) as raised:
            case.api()
        expected = case.api_message or case.cli
        assert same_message(expected, str(raised.value), block_home), str(raised.value)
        if case.hidden:
            assert case.hidden not in str(raised.value)
        if case.fields is not None:
            assert tuple(raised.value.fields) == case.fields
        reset_state()
        assert snapshot(block_home) == before


def test_broken_plugin_is_named_and_other_types_keep_working(block_home, monkeypatch):
    """A plugin file failing at import is one warning naming it; core types still save."""
    _plugin("plugins-broken", "broken_sdk", BROKEN_PLUGIN)(block_home)
    path = block_home / "plugins-broken" / "broken_sdk.py"
    monkeypatch.setenv("CORE_BLOCKS_PLUGINS_DIRS", str(path.parent))
    reset_state()
    error = (f"Plugin file {path} failed to load: ModuleNotFoundError: No module named "
             f"'{MISSING_SDK}'. Fix or remove the file.")

    registry = get_registry()
    assert {k: v for k, v in registry.errors.items() if k.startswith("file:")} == {
        "file:broken_sdk": error}
    assert registry.block_type("secret") is Secret

    types = blocks_cli("types", "--json")
    assert types.returncode == 0, types.stderr
    listed = json.loads(types.stdout)
    assert listed["plugin_errors"]["file:broken_sdk"] == error
    assert {"secret", "webhook"} <= {t["slug"] for t in listed["types"]}

    table = blocks_cli("types")
    assert table.returncode == 0
    warnings = table.stderr.splitlines()  # one per failed plugin, installed ones included
    assert f"Warning: {error}" in warnings
    assert len(warnings) == len(registry.errors)
    assert all(line.startswith("Warning: Plugin ") for line in warnings)

    created = blocks_cli("create", "secret/still-works", "--set", "value=fine")
    assert created.returncode == 0, created.stderr
    assert Secret.load("still-works").get() == "fine"


def test_debug_shows_the_traceback_that_the_plain_error_hides():
    """--debug is the way to the traceback; without it there is none (checked above)."""
    result = blocks_cli("--debug", "create", "secrte/x")
    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert "BlockTypeNotFound: Unknown block type 'secrte'." in result.stderr
