"""`blocks ui` itself: what it prints, that it serves, and that start-up never imports it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request

from tests.helpers import BLOCKS


def test_blocks_ui_prints_its_url_and_serves_the_page(block_home):
    process = subprocess.Popen([BLOCKS, "ui", "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line
        assert "token" not in line  # loopback: no token to carry
        with urllib.request.urlopen(url[0] + "api/blocks", timeout=30) as reply:
            assert reply.status == 200 and reply.read() == b"[]"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Stopped." in out


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
