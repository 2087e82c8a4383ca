"""Another user of this machine (`nobody`) reaches 127.0.0.1 like anyone: without the access
token it reads and changes nothing, with curl or Python."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from core_blocks import Webhook
from tests.conftest import service_missing


def as_nobody(*command: str) -> subprocess.CompletedProcess:
    if os.geteuid() != 0 or not shutil.which("runuser"):
        service_missing("a second OS user", "run the tests as root, which runuser needs")
    return subprocess.run(["runuser", "-u", "nobody", "--", *command], capture_output=True,
                          text=True, timeout=60, cwd="/")


def curl(base: str, method: str, path: str, *extra: str) -> tuple[int, str]:
    """(status, body) of one request sent by nobody with curl."""
    done = as_nobody("curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-X", method,
                     *extra, base + path)
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


@pytest.fixture
def alerts(client, canary):
    """A webhook whose write-only url and Authorization header hold the canary."""
    Webhook(url=f"https://hooks.example.test/{canary}",
            headers={"Authorization": f"Bearer {canary}"}).save("alerts")
    return Webhook.load("alerts")


def test_nobody_with_curl_reads_and_writes_nothing(client, ui_server, alerts, canary):
    base = client.base
    csrf = ["-H", f"X-CSRF-Token: {ui_server.guard.csrf_token}"]  # even knowing this one
    repoint = ["-H", "Content-Type: application/json", "-H", f"Origin: {base}", *csrf,
               "--data", json.dumps({"version": alerts._block_document_version,
                                     "values": {"url": "http://127.0.0.1:9/stolen"}})]
    tries = [("GET", "/", []), ("GET", "/static/app.js", []), ("GET", "/api/blocks", []),
             ("GET", "/api/blocks/webhook/alerts", []), ("GET", "/api/runs", []),
             ("GET", "/api/types/webhook/schema", []),
             ("GET", "/api/blocks", ["-H", "Authorization: Bearer guess"]),
             ("GET", "/?token=guess", []),
             ("PUT", "/api/blocks/webhook/alerts", repoint),
             ("DELETE", "/api/blocks/webhook/alerts", ["-H", f"Origin: {base}", *csrf]),
             ("POST", "/api/blocks", ["-H", "Content-Type: application/json", *csrf,
                                      "--data", '{"type": "string", "name": "x", '
                                                '"values": {"value": "x"}}'])]

    answers = [curl(base, method, path, *extra) for method, path, extra in tries]

    assert [status for status, _ in answers] == [403] * len(tries)
    seen = "".join(body for _, body in answers)
    assert "alerts" not in seen and canary not in seen and "csrf" not in seen.lower()
    after = Webhook.load("alerts")
    assert after.url.get_secret_value() == f"https://hooks.example.test/{canary}"
    assert after._block_document_version == alerts._block_document_version
    assert Webhook.list() == ["alerts"]


def test_nobody_with_python_is_refused_and_lets_in_only_with_the_token(client, ui_server,
                                                                       alerts, canary):
    probe = ("import sys, urllib.request, urllib.error\n"
             "req = urllib.request.Request(sys.argv[1], headers=dict([sys.argv[2:4]]) "
             "if len(sys.argv) > 2 else {})\n"
             "try:\n    r = urllib.request.urlopen(req, timeout=30)\n"
             "    print(r.status, r.read().decode())\n"
             "except urllib.error.HTTPError as e:\n    print(e.code, e.read().decode())\n")
    python = "/usr/bin/python3"  # the system's: one under root's home is not nobody's to run
    if not os.access(python, os.X_OK):
        service_missing("a system Python", "apt-get install python3-minimal")
    url = client.base + "/api/blocks/webhook/alerts"

    refused = as_nobody(python, "-c", probe, url)
    assert refused.stdout.startswith("403 ") and "alerts" not in refused.stdout.split(" ", 1)[1]

    # The same user and channel with the token is let in: the refusal above is the token's.
    token = ui_server.guard.access_token
    allowed = as_nobody(python, "-c", probe, url, "Authorization", f"Bearer {token}")
    assert allowed.stdout.startswith("200 ") and '"name": "alerts"' in allowed.stdout
    assert canary not in refused.stdout + allowed.stdout
