"""What DbtCoreOperation's commands run as: a shell command that is not dbt (`pwd`, `ls`)
as a subprocess without a shell, and a triggered operation running in the background
(`DbtCoreProcess`, Prefect's process-like result)."""

from __future__ import annotations

import contextvars
import shlex
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect_dbt.errors import DbtInvocationError

_TAIL = 5  # lines of a failed command's output quoted in its error


@dataclass(frozen=True)
class CommandResult:
    """A command that is not dbt: its exit code and its output lines (stdout and stderr)."""

    command: str
    return_code: int
    output: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return self.return_code == 0


def is_dbt(command: str) -> bool:
    """Whether `command` is a dbt command ("dbt ..."), run by dbt's runner in this process."""
    return shlex.split(command)[:1] == ["dbt"]


def run_command(command: str, cwd: str | Path | None) -> CommandResult:
    """Run `command` split like a shell (no shell: no pipes or `$VAR`s) in `cwd`; a non-zero
    exit raises DbtInvocationError quoting the output's last lines."""
    args = shlex.split(command)
    try:
        done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise DbtInvocationError(
            f"Command {command!r} could not start: no program {args[0]!r} on PATH"
            + (f" or no folder {str(cwd)!r}" if cwd else "")
            + ". Install it or fix the command (it runs without a shell).") from None
    output = (done.stdout + done.stderr).splitlines()
    if done.returncode:
        tail = " | ".join(output[-_TAIL:]) or "no output"
        raise DbtInvocationError(f"Command {command!r} exited with code {done.returncode}: "
                                 f"{tail}. Fix the command and run the operation again.")
    return CommandResult(command, done.returncode, output)


class DbtCoreProcess:
    """A triggered DbtCoreOperation, running in a background thread (in the caller's run
    context, so its commands are child runs of the caller's flow).

        with DbtCoreOperation(commands=["dbt run"], project_dir="shop") as operation:
            process = operation.trigger()
            ...                                 # other work meanwhile
            process.wait_for_completion()
            results = process.fetch_result()
    """

    def __init__(self, run: Any) -> None:
        self._results: list[Any] | None = None
        self._error: BaseException | None = None
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._work, run),
                                        name="dbt-core-operation", daemon=True)
        self._thread.start()

    def _work(self, run: Any) -> None:
        try:
            self._results = run()
        except BaseException as exc:  # handed to whoever waits
            self._error = exc

    @property
    def return_code(self) -> int | None:
        """None while running, then 0 if every command succeeded, else 1."""
        if self._thread.is_alive():
            return None
        return 1 if self._error is not None else 0

    def wait_for_completion(self, timeout: float | None = None) -> None:
        """Wait until the commands are done; raise the first command's failure if one
        failed (TimeoutError if still running after `timeout` seconds)."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"The dbt operation is still running after {timeout} s: wait "
                               "longer, or check return_code later.")
        if self._error is not None:
            raise self._error

    def fetch_result(self) -> list[Any]:
        """Every command's result (DbtResult for dbt, CommandResult for others), waiting
        for them first."""
        self.wait_for_completion()
        return list(self._results or [])
