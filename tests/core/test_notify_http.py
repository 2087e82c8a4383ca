"""The notifiers' shared HTTP transport (NotificationBlock.post_http), against a real local
server: what is sent again and what never is, Retry-After, timeouts, and secrets kept out of
errors, chained exceptions and logs."""

from __future__ import annotations

import logging
import time
from email.utils import formatdate
from pathlib import Path

import pytest
from pydantic import Field, SecretStr

from core_blocks import Webhook
from core_blocks.abstract import NotificationBlock
from core_blocks.errors import NotificationError
from core_blocks.notify_http import (
    ATTEMPTS,
    RETRY_AFTER_CAP_SECONDS,
    HttpAnswer,
    retry_after_seconds,
    secret_parts,
)
from core_blocks.registry import get_registry
from tests.helpers import plugin_folder
from tests.http_receiver import closed_port_url

REPO = Path(__file__).resolve().parents[2]


class Beacon(NotificationBlock):
    """A minimal notifier written as the README tells authors to: one post_http call."""

    url: SecretStr = Field(description="Endpoint; secret")
    token: SecretStr = Field(default=SecretStr("t0ken"), description="Bearer token; secret")
    repeatable: bool = Field(default=False, description="Whether a repeat is harmless")
    timeout_seconds: float = Field(default=5.0, description="Request timeout")

    def notify(self, body: str, subject: str | None = None) -> None:
        self.post_http("POST", self.url, json={"text": body, "title": subject},
                       headers={"Authorization": f"Bearer {self.token.get_secret_value()}"},
                       timeout=self.timeout_seconds, idempotent=self.repeatable,
                       remedies={404: "check its url (the beacon id at its end)"},
                       explain=lambda answer: answer.text)


def _raised(block: NotificationBlock) -> NotificationError:
    with pytest.raises(NotificationError) as caught:
        block.notify("disk full", subject="db-1")
    return caught.value


def _chain_is_empty(error: BaseException) -> bool:
    return error.__cause__ is None and error.__context__ is None


# -- what is sent again -------------------------------------------------------------------


def test_a_non_idempotent_post_answered_500_is_sent_exactly_once(http_receiver):
    http_receiver.status = 500
    http_receiver.body = b"boom"
    Beacon(url=http_receiver.url + "/b/1").save("ops")

    error = _raised(Beacon.load("ops"))

    assert len(http_receiver.requests) == 1
    assert str(error) == ("Beacon 'ops' got HTTP 500 (boom); "
                          "the receiver had a server error; retry later.")


def test_a_non_idempotent_post_whose_connection_drops_is_sent_exactly_once(http_receiver):
    http_receiver.script = ["drop"]

    error = _raised(Beacon(url=http_receiver.url))

    assert len(http_receiver.requests) == 1
    assert str(error).startswith("Beacon (unsaved) could not be reached (RemoteProtocolError);")


def test_an_idempotent_post_is_retried_after_5xx_and_succeeds(http_receiver):
    http_receiver.script = [500, 503]

    Beacon(url=http_receiver.url, repeatable=True).notify("disk full")

    assert len(http_receiver.requests) == 3
    assert [r["json"]["text"] for r in http_receiver.requests] == ["disk full"] * 3


def test_an_idempotent_post_is_retried_after_a_dropped_connection(http_receiver):
    http_receiver.script = ["drop"]

    Beacon(url=http_receiver.url, repeatable=True).notify("disk full")

    assert len(http_receiver.requests) == 2


def test_retries_are_bounded_and_the_error_counts_them(http_receiver):
    http_receiver.status = 502

    error = _raised(Beacon(url=http_receiver.url, repeatable=True))

    assert len(http_receiver.requests) == ATTEMPTS == 3
    assert "got HTTP 502" in str(error) and f"after {ATTEMPTS} attempts" in str(error)


def test_a_429_is_retried_even_when_not_idempotent_honouring_retry_after(http_receiver):
    # A 429 means the receiver did not act on the request: repeating it cannot duplicate it.
    http_receiver.script = [(429, {"Retry-After": "1"})]
    started = time.monotonic()

    Beacon(url=http_receiver.url).notify("disk full")

    assert len(http_receiver.requests) == 2
    assert time.monotonic() - started >= 0.95


def test_a_retry_after_beyond_the_cap_is_not_waited_for(http_receiver):
    http_receiver.status = 429
    http_receiver.script = [(429, {"Retry-After": str(int(RETRY_AFTER_CAP_SECONDS) + 50)})]
    started = time.monotonic()

    error = _raised(Beacon(url=http_receiver.url, repeatable=True))

    assert time.monotonic() - started < 2
    assert len(http_receiver.requests) == 1
    assert "got HTTP 429" in str(error) and "rate limiting" in str(error)


def test_an_unreachable_receiver_is_tried_again_then_named(caplog):
    # Nothing was sent when the connection could not be opened, so even a POST is repeated.
    caplog.set_level(logging.INFO, logger="core_blocks.notify")

    error = _raised(Beacon(url=closed_port_url()))

    assert str(error) == ("Beacon (unsaved) could not be reached (ConnectError); "
                          "check its URL and that the receiver is up.")
    retries = [r.getMessage() for r in caplog.records if r.name == "core_blocks.notify"]
    assert len(retries) == ATTEMPTS - 1
    assert retries[0].startswith("Beacon (unsaved): ConnectError, sending again in 0.5 s")


def test_a_slow_receiver_is_a_timeout_error_and_a_post_is_not_repeated(http_receiver):
    http_receiver.script = ["slow"]
    http_receiver.delay = 1.0

    error = _raised(Beacon(url=http_receiver.url, timeout_seconds=0.2))

    assert str(error).startswith("Beacon (unsaved) got no answer within 0.2 s (ReadTimeout);")
    assert len(http_receiver.requests) == 1


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("status, fix", [
    (404, "check its url (the beacon id at its end)"),      # the notifier's own remedy
    (401, "its credentials were refused; check its URL and headers"),  # the default
    (418, "the receiver refused the message; check its URL, headers and body"),  # 4xx class
    (301, "the receiver redirects elsewhere; set the URL it redirects to"),
])
def test_each_status_gets_its_fix(http_receiver, status, fix):
    http_receiver.status = status
    http_receiver.body = b""

    error = _raised(Beacon(url=http_receiver.url))

    assert str(error) == f"Beacon (unsaved) got HTTP {status}; {fix}."


def test_an_invalid_url_is_named_without_the_url(canary):
    error = _raised(Beacon(url=f"http://127.0.0.1:notaport/{canary}"))

    assert str(error).startswith("Beacon (unsaved) has a URL that is not valid (InvalidURL);")
    assert canary not in str(error)


# -- secrets ------------------------------------------------------------------------------


def _failures(receiver, canary):
    """One block per way of failing, each holding the canary in its URL and its token."""
    url = f"{receiver.url}/hooks/{canary}"
    return {
        "refused": Beacon(url=url, token=canary),
        "echoed": Beacon(url=url, token=canary),  # the server quotes the secrets back
        "dropped": Beacon(url=url, token=canary, repeatable=True),
        "slow": Beacon(url=url, token=canary, timeout_seconds=0.2),
        "unreachable": Beacon(url=f"{closed_port_url()}/{canary}", token=canary),
        "invalid": Beacon(url=f"http://127.0.0.1:notaport/{canary}", token=canary),
    }


def test_secret_url_and_headers_never_reach_errors_chains_or_logs(http_receiver, canary,
                                                                  caplog):
    caplog.set_level(logging.DEBUG)
    blocks = _failures(http_receiver, canary)
    errors = []
    for kind, block in blocks.items():
        http_receiver.script, http_receiver.status = [], 200
        http_receiver.body = b"{}"
        if kind == "refused":
            http_receiver.status = 403
        elif kind == "echoed":
            http_receiver.status = 400
            http_receiver.body = f"bad token Bearer {canary} for /hooks/{canary}".encode()
        elif kind == "dropped":
            http_receiver.script = ["drop"] * ATTEMPTS
        elif kind == "slow":
            http_receiver.script, http_receiver.delay = ["slow"], 0.5
        block.save(f"canary-{kind}")
        errors.append(_raised(block))

    assert len(errors) == len(blocks)
    for error in errors:
        assert "Beacon 'canary-" in str(error)
        assert canary not in str(error) and canary not in repr(error)
        assert _chain_is_empty(error), f"{error!r} chains {error.__context__!r}"
    assert "(bad token ********** for **********)" in str(errors[1])
    assert caplog.records, "httpx logs nothing at DEBUG: this test would prove nothing"
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert canary not in logged
    assert canary not in caplog.text


def test_a_successful_send_logs_no_secret(http_receiver, canary, caplog):
    caplog.set_level(logging.DEBUG)

    Beacon(url=f"{http_receiver.url}/hooks/{canary}", token=canary).notify("ok")

    assert http_receiver.requests[0]["headers"]["authorization"] == f"Bearer {canary}"
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)
    assert canary not in caplog.text


def test_the_answer_carries_no_request_url_or_headers(http_receiver, canary):
    http_receiver.body = b'{"id": 7}'
    block = Beacon(url=f"{http_receiver.url}/{canary}", token=canary)

    answer = block.post_http("GET", block.url, headers={"X-Key": canary}, timeout=5,
                             idempotent=True)

    assert isinstance(answer, HttpAnswer)
    assert (answer.status_code, answer.json()) == (200, {"id": 7})
    assert answer.headers["content-type"] == "application/json"
    assert canary not in repr(answer) and canary not in str(vars(answer))


# -- Retry-After --------------------------------------------------------------------------


def test_retry_after_is_read_as_seconds_or_an_http_date():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    in_five = retry_after_seconds(formatdate(time.time() + 5, usegmt=True))
    assert in_five is not None and 3.5 < in_five <= 5.0
    assert retry_after_seconds(formatdate(time.time() - 60, usegmt=True)) == 0.0


# -- which notifier is idempotent ---------------------------------------------------------


@pytest.mark.parametrize("method, idempotent, sent", [
    ("POST", None, 1), ("PATCH", None, 1), ("PUT", None, 2), ("DELETE", None, 2),
    ("POST", True, 2), ("PUT", False, 1),
])
def test_webhook_retries_by_method_unless_told(http_receiver, method, idempotent, sent):
    http_receiver.script = [500]
    hook = Webhook(url=http_receiver.url, method=method, idempotent=idempotent)

    if sent == 1:
        with pytest.raises(NotificationError, match="^Webhook \\(unsaved\\) got HTTP 500;"):
            hook.notify("x")
    else:
        hook.notify("x")

    assert len(http_receiver.requests) == sent


def test_secret_parts_cover_what_a_server_may_echo():
    url = "https://user:pa55word-x@hooks.example/T0/services/B0123456789?token=abcdefghij"
    parts = secret_parts(url, ["Bearer sk-live-1234567890", "json"])

    for echoed in ("B0123456789", "abcdefghij", "pa55word-x", "sk-live-1234567890",
                   "/T0/services/B0123456789", "Bearer sk-live-1234567890"):
        assert echoed in parts
    assert "T0" not in parts and "json" not in parts  # short words are not secrets
    assert parts == sorted(parts, key=len, reverse=True)


# -- the documented example -----------------------------------------------------------------


def test_the_ntfy_example_of_the_plugins_readme_works(tmp_path, monkeypatch, http_receiver):
    readme = (REPO / "plugins" / "README.md").read_text()
    source = readme.split("```python\n# my_plugins/ntfy.py\n")[1].split("```")[0]
    plugin_folder(tmp_path, monkeypatch, "ntfy.py", source)
    ntfy = get_registry().block_type("ntfy")

    ntfy(topic_url=http_receiver.url + "/alerts").notify("disk full", subject="db-1")
    http_receiver.status = 404
    ntfy(topic_url=http_receiver.url + "/gone").save("alerts")
    with pytest.raises(NotificationError) as caught:
        ntfy.load("alerts").notify("x")

    [sent, _] = http_receiver.requests
    assert (sent["path"], sent["body"], sent["headers"]["title"]) == ("/alerts", b"disk full",
                                                                      "db-1")
    assert str(caught.value) == "Ntfy 'alerts' got HTTP 404; check its topic_url."


# -- TLS ----------------------------------------------------------------------------------


def test_a_self_signed_receiver_is_refused_with_the_shared_tls_context(tls_endpoint):
    """The TLS context is made once per process (it costs ~45 ms to build) and still verifies:
    a certificate no CA vouches for is refused, twice, without a second handshake that
    succeeds."""
    hook = Webhook(url=f"{tls_endpoint.url}/hooks/T0", idempotent=False)

    for _ in range(2):
        error = _raised(hook)
        assert "could not be reached (ConnectError)" in str(error)
        assert tls_endpoint.url not in str(error)
    assert tls_endpoint.connections >= 2
