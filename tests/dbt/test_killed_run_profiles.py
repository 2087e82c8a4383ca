"""A dbt run killed with `kill -9` leaves its temporary profiles.yml, password included:
`blocks doctor` names the folder (and leaves a running one alone), `blocks doctor --fix` removes
it. The run is a real dbt process on the test PostgreSQL server, killed mid-query."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

import psycopg

from tests.dbt.project import write_project
from tests.helpers import BLOCKS

SLEEP_MACRO = ('{% macro sleep_a_while() %}{% do run_query("select pg_sleep(120)") %}'
               "{% endmacro %}\n")
RUN = '''
import sys

from prefect_dbt import DbtCliProfile
from prefect_dbt.cli.commands import trigger_dbt_cli_command

if __name__ == "__main__":
    trigger_dbt_cli_command("dbt run-operation sleep_a_while", project_dir=sys.argv[1],
                            dbt_cli_profile=DbtCliProfile.load("shop-ci"))
'''


def doctor(env: dict[str, str], *flags: str) -> tuple[dict, str]:
    result = subprocess.run([BLOCKS, "doctor", "--json", *flags], capture_output=True,
                            text=True, timeout=120, env=env)
    report = json.loads(result.stdout)
    [finding] = [f for f in report["findings"] if f["name"] == "temporary folders"]
    return finding, result.stdout + result.stderr


def wait_for(condition, what: str, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def sleeping_sessions(role: str) -> list[int]:
    with psycopg.connect(os.environ["CORE_BLOCKS_TEST_PG_URL"], autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE usename = %s AND query LIKE %s",
            (role, "%pg_sleep%")).fetchall()]


def end_sessions(role: str) -> None:
    """The killed client's query keeps sleeping on the server: end it."""
    with psycopg.connect(os.environ["CORE_BLOCKS_TEST_PG_URL"], autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE usename = %s", (role,))


def test_doctor_removes_the_profile_of_a_killed_dbt_run(tmp_path, postgres_profile,
                                                        postgres_login, block_home):
    *_, role, password = postgres_login
    project = write_project(tmp_path / "shop")
    (project / "macros").mkdir()
    (project / "macros" / "sleep_a_while.sql").write_text(SLEEP_MACRO)
    postgres_profile.save("shop-ci")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    script = tmp_path / "run.py"
    script.write_text(RUN)
    run = subprocess.Popen([sys.executable, str(script), str(project)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        profile = wait_for(lambda: next(temp.glob(f"core-blocks-dbt.{run.pid}.*/profiles.yml"),
                                        None), "the run's profiles.yml")
        wait_for(lambda: sleeping_sessions(role) or run.poll() is not None, "dbt's query")
        assert run.poll() is None, run.stderr.read().decode()
        folder = profile.parent
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert password in profile.read_text()  # what a kill leaves behind

        running, _ = doctor(env, "--fix")  # a live run's folder is not a leftover
        assert running == {"area": "runs", "name": "temporary folders", "ok": True,
                           "detail": "none"}
        assert profile.exists()

        run.send_signal(signal.SIGKILL)
        assert run.wait(timeout=30) == -signal.SIGKILL
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        end_sessions(role)
    assert profile.exists()

    found, output = doctor(env)
    assert not found["ok"] and folder.name in found["detail"]
    assert "blocks doctor --fix" in found["detail"]
    assert password not in output

    fixed, output = doctor(env, "--fix")
    assert fixed["ok"] and fixed["detail"] == "removed 1"
    assert not folder.exists() and list(temp.iterdir()) == []
    assert password not in output
