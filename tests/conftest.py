"""Every test runs in its own CORE_BLOCKS_HOME: pyproject.toml sets `core_blocks_isolate`, so
the pytest plugin of core_blocks.testing gives each one the `block_home` fixture."""

import os

import pytest


def _snapshot(folder) -> dict[str, tuple[int, int]]:
    """Every file below folder: relative path -> (size, modification time in ns)."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(autouse=True, scope="session")
def _real_home_untouched():
    """No test may create or change the user's own home (CORE_BLOCKS_HOME as the session
    found it, else ~/.core_blocks; every test has its own): its files are compared before and
    after, so an existing folder hides nothing. Runs are recorded by a background writer, so
    its queue is flushed first: a run recorded outside block_home is caught too."""
    import sys
    from pathlib import Path

    real = Path(os.environ.get("CORE_BLOCKS_HOME") or Path.home() / ".core_blocks").expanduser()
    existed, before = real.exists(), _snapshot(real)
    yield
    history = sys.modules.get("core_blocks.runtime.history")
    if history is not None:
        history.flush()
    assert existed or not real.exists(), f"a test created {real}; it must use block_home"
    assert _snapshot(real) == before, f"a test changed files in {real}; it must use block_home"


def service_missing(what: str, how: str):
    """Skip on a laptop, fail under CI=true: a green run must not hide a missing service."""
    message = f"{what} is not available: {how}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def http_receiver():
    """A recording HTTP server on 127.0.0.1 (see tests/http_receiver.py)."""
    from tests.http_receiver import Receiver

    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def postgres_url():
    """A PostgreSQL store URL on a fresh schema of CORE_BLOCKS_TEST_PG_URL's database."""
    import uuid
    from urllib.parse import quote

    base = os.environ.get("CORE_BLOCKS_TEST_PG_URL")
    if not base:
        service_missing("PostgreSQL", "set CORE_BLOCKS_TEST_PG_URL (make test starts a server)")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:
        service_missing("PostgreSQL", f"cannot connect to CORE_BLOCKS_TEST_PG_URL ({exc})")
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    from core_blocks.testing import reset_state

    reset_state()  # close this process's connections before dropping their schema
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def any_store(request, monkeypatch, block_home):
    """Runs a test on the embedded SQLite store, then again on PostgreSQL."""
    from core_blocks.testing import reset_state

    if request.param == "postgres":
        monkeypatch.setenv("CORE_BLOCKS_STORE_URL", request.getfixturevalue("postgres_url"))
        reset_state()
    yield request.param
    reset_state()


@pytest.fixture
def secret_service(monkeypatch):
    """A real Secret Service (gnome-keyring on a private D-Bus), unlocked by make test."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") or not os.environ.get(
            "CORE_BLOCKS_TEST_KEYRING"):
        service_missing("The Secret Service keyring",
                        "run under make test, which starts gnome-keyring on a private D-Bus")
    from core_blocks.secrets.keyring_backend import KeyringSecretBackend
    from core_blocks.settings import current

    reason = KeyringSecretBackend.unusable_reason(current())
    if reason:
        service_missing("The Secret Service keyring", reason)
    import keyring

    return keyring.get_keyring()


@pytest.fixture
def tls_endpoint(tmp_path):
    """An HTTPS endpoint with a self-signed certificate (see TlsEndpoint)."""
    from tests.tls_endpoint import TlsEndpoint

    endpoint = TlsEndpoint(tmp_path)
    yield endpoint
    endpoint.close()
