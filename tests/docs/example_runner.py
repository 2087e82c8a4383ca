"""Runs one README section's examples in order, in this process, as a user would.

Started by tests/docs/test_readme_examples.py in the section's own folder, with its own
CORE_BLOCKS_HOME and HOME. It reads one JSON request a line on stdin and answers one JSON
line on stdout ({"ok": true} or {"ok": false, "error": ...}); whatever the examples print
goes to stderr. Python runs in one namespace for the whole section, compiled under the
README's name and line numbers, so a traceback points into the README.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import linecache
import os
import re
import subprocess
import sys
import traceback
import urllib.request
from pathlib import Path

_PROMPT = r"(?:^|\n)[a-z_]+ \([^\n]*\)[^\n]*: $"  # `field (description) [...]: `
_OPTIONAL = "(optional: Enter to skip)"
_SERVING = r"blocks ui: open (http://\S+)"
_FAILED = re.compile(r"__example_failed_at__ (\d+)")
_CONFIRM = r"\[y/n\][^\n]*: $"  # rich's Confirm (colours and all): Enter takes its default
PROMPT_ANSWER = "readme-example-secret"  # what a user types at a required prompt
# Fields whose values are checked for their shape: a user types one that passes.
FIELD_ANSWERS = {"url": "https://hooks.example.com/T0"}


class ExampleFailed(Exception):
    """The example went wrong; the message names the README line and the error."""


def run_python(request: dict, namespace: dict) -> None:
    """Run a python fence in the section's namespace; a top-level `await` works, as in an
    asyncio REPL."""
    tree = ast.parse(request["code"], request["readme"])
    ast.increment_lineno(tree, request["line"])
    code = compile(tree, request["readme"], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                   dont_inherit=True)  # not this module's `from __future__ import annotations`
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(code, namespace))
    else:
        exec(code, namespace)


def run_bash(request: dict) -> str:
    """Run a bash fence as one script (`export` lines hold for the rest of it) on a terminal:
    a prompt is answered as a user would, a `blocks ui` it starts is opened, then stopped."""
    import pexpect

    script = Path(f"example-{request['line']}.sh")
    # The first line is the fence's, so $LINENO - 1 is the README line after the fence.
    script.write_text("set -eo pipefail; trap 'echo \"__example_failed_at__ $LINENO\"' ERR\n"
                      + request["code"])
    child = pexpect.spawn("bash", [str(script)], encoding="utf-8", timeout=60,
                          dimensions=(50, 250), env=dict(os.environ))
    output = []
    answers = 0
    while True:
        index = child.expect([_PROMPT, _SERVING, _CONFIRM, pexpect.EOF])
        output.append(child.before + (child.after if isinstance(child.after, str) else ""))
        if index == 0:
            answers += 1
            if answers > 10:
                child.terminate(force=True)
                raise ExampleFailed(f"{request['readme']} line {request['line']}: prompts "
                                    f"again and again:\n{_tail(''.join(output))}")
            field = child.after.strip().split(" ", 1)[0]
            child.sendline("" if _OPTIONAL in child.after
                           else FIELD_ANSWERS.get(field, PROMPT_ANSWER))
        elif index == 1:
            served = child.match.group(1)
            # As a browser: the token URL sets a cookie, then redirects to the page.
            browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
            with browser.open(served, timeout=10) as answer:
                if answer.status != 200:
                    raise ExampleFailed(f"{served} answered HTTP {answer.status}")
            child.sendintr()  # Ctrl-C, as the command says to stop it
        elif index == 2:
            child.sendline("")
        else:
            break
    child.close()
    text = "".join(output)
    failed = _FAILED.search(text)
    if child.exitstatus != 0 or failed:
        line = request["line"] + int(failed.group(1)) - 1 if failed else request["line"]
        raise ExampleFailed(f"{request['readme']} line {line}: the command failed "
                            f"(exit {child.exitstatus}):\n{_tail(_FAILED.sub('', text))}")
    return text


def run_console(request: dict) -> None:
    """Run each `$ command` of a console fence and check that it prints what follows it (an
    `Error:` answer means exit 1)."""
    lines = request["code"].splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("$ ")]
    for position, start in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else len(lines)
        expected = " ".join(" ".join(lines[start + 1:end]).split())
        result = subprocess.run(["bash", "-c", lines[start][2:]], capture_output=True,
                                text=True, timeout=90, stdin=subprocess.DEVNULL,
                                env={**os.environ, "COLUMNS": "250"})
        got = " ".join((result.stdout + result.stderr).split())
        want_exit = 1 if expected.startswith("Error:") else 0
        if expected not in got or result.returncode != want_exit:
            raise ExampleFailed(
                f"{request['readme']} line {request['line'] + 1 + start}: expected exit "
                f"{want_exit} and {expected!r}; got exit {result.returncode} and {got!r}")


def run_files(request: dict) -> None:
    """Write each file of the fence, then import it as a module in a fresh interpreter."""
    for path, text in request["files"].items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
        module = path.removesuffix(".py").replace("/", ".")
        result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                                text=True, timeout=60, env={**os.environ, "PYTHONPATH": "."})
        if result.returncode:
            raise ExampleFailed(f"{request['readme']} line {request['line']}: {path} does not "
                                f"import:\n{_tail(result.stderr)}")


def run_pytest(request: dict) -> None:
    """Run a test file with pytest in a folder of its own, as its user would; it must pass and
    leave the user's CORE_BLOCKS_HOME as it was (tests use the block_home fixture)."""
    folder = Path(f"pytest-{request['line']}")
    for path, text in request["files"].items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    home = Path(os.environ["CORE_BLOCKS_HOME"])
    before = _snapshot(home)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             *request["files"]], cwd=folder, capture_output=True, text=True,
                            timeout=300)
    if result.returncode:
        raise ExampleFailed(f"{request['readme']} line {request['line']}: pytest failed:\n"
                            f"{_tail(result.stdout + result.stderr, 40)}")
    if _snapshot(home) != before:
        raise ExampleFailed(
            f"{request['readme']} line {request['line']}: the tests passed but wrote to the "
            f"user's own CORE_BLOCKS_HOME ({sorted(_snapshot(home))}); a test must use the "
            "block_home fixture (or core_blocks_isolate) for everything it saves or runs")


def _described(exc: BaseException, readme: str) -> str:
    """The README line the error came from, the error, and the end of its traceback."""
    lines = [line for frame, line in traceback.walk_tb(exc.__traceback__)
             if frame.f_code.co_filename == readme]
    where = f"{readme} line {lines[-1]}" if lines else readme
    error = "".join(traceback.format_exception_only(exc)).strip()
    return f"{where}: {error}\n{''.join(traceback.format_exception(exc, limit=-8))}"


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def main() -> None:
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # what examples (and their subprocesses) print goes to stderr
    namespace: dict = {"__name__": "__main__"}
    for raw in sys.stdin:
        request = json.loads(raw)
        readme = request.get("readme")
        if request.get("readme_path") and readme not in linecache.cache:
            text = Path(request["readme_path"]).read_text()
            linecache.cache[readme] = (len(text), None, text.splitlines(True), readme)
        try:
            kind = request["kind"]
            if kind == "python":
                run_python(request, namespace)
            elif kind == "bash":
                sys.stderr.write(run_bash(request))
            elif kind == "console":
                run_console(request)
            elif kind == "files":
                run_files(request)
            elif kind == "pytest":
                run_pytest(request)
            reply = {"ok": True}
        except ExampleFailed as exc:
            reply = {"ok": False, "error": str(exc)}
        except BaseException as exc:  # noqa: BLE001 (an example's error is the answer)
            reply = {"ok": False, "error": _described(exc, readme)}
        sys.stderr.flush()
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
