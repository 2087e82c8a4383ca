"""`blocks ui` itself: what it prints, that it serves, and that start-up never imports it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.helpers import BLOCKS


def test_blocks_ui_prints_its_url_with_the_token_and_serves_the_page(block_home):
    process = subprocess.Popen([BLOCKS, "ui", "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+/)\?token=([\w-]{40,})", line)
        assert url, line
        with pytest.raises(urllib.error.HTTPError) as refused:  # loopback too: no token, no page
            urllib.request.urlopen(url[1] + "api/blocks", timeout=30)
        assert refused.value.code == 403
        request = urllib.request.Request(url[1] + "api/blocks",
                                         headers={"Authorization": f"Bearer {url[2]}"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            assert reply.status == 200 and reply.read() == b"[]"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Stopped." in out


def test_a_configured_token_is_used_and_a_weak_one_refused(block_home):
    env = {**os.environ, "CORE_BLOCKS_UI_TOKEN": "chosen-token-0123456789"}
    process = subprocess.Popen([BLOCKS, "ui", "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert "?token=chosen-token-0123456789" in process.stdout.readline()
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)

    weak = subprocess.run([BLOCKS, "ui", "--port", "0"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "CORE_BLOCKS_UI_TOKEN": "hunter2"})
    assert weak.returncode == 1
    assert weak.stderr.count("\n") == 1 and "CORE_BLOCKS_UI_TOKEN must be 16" in weak.stderr
    assert "hunter2" not in weak.stderr + weak.stdout


def test_a_port_in_use_is_one_clear_line(block_home):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([BLOCKS, "ui", "--port", str(port)], capture_output=True,
                              text=True, timeout=60)
    assert done.returncode == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "--port" in done.stderr


def test_help_and_ls_do_not_import_the_web_page():
    probe = ("import sys, io, contextlib\nfrom core_blocks.cli.app import main\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             "    assert main(['--help']) == 0\n    assert main(['ls']) == 0\n"
             "print(*sorted(m for m in sys.modules if m.startswith('core_blocks.ui')"
             " or m in ('http.server', 'socketserver')))")
    env = {**os.environ, "CORE_BLOCKS_PLUGINS_DIRS": ""}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
