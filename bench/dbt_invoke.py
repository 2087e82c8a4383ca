"""dbt in process against the command line: `trigger_dbt_cli_command("dbt build")` and the
`dbt build` command on the same DuckDB project and profiles.yml, median of several runs each.

In process, dbt's import and start-up are paid once per process, not once per command.
"""

from __future__ import annotations

import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from timing import scratch_home  # noqa: E402

RUNS = 7


def main() -> None:
    scratch_home()
    logging.getLogger("core_blocks.runs").setLevel(logging.WARNING)  # dbt's lines: not timed
    import yaml

    from prefect_dbt import DbtCliProfile, DuckDbTargetConfigs
    from prefect_dbt.cli.commands import trigger_dbt_cli_command
    from tests.dbt.project import write_project

    work = Path(tempfile.mkdtemp(prefix="core-blocks-bench-dbt-"))
    try:
        project = write_project(work / "shop")
        profile = DbtCliProfile(name="shop", target="dev", target_configs=DuckDbTargetConfigs(
            path=str(work / "shop.duckdb"), threads=2))
        profiles = work / "profiles"
        profiles.mkdir()
        (profiles / "profiles.yml").write_text(yaml.safe_dump(profile.get_profile()))
        dbt = str(Path(sys.executable).with_name("dbt"))
        cli = [dbt, "build", "--project-dir", str(project), "--profiles-dir", str(profiles),
               "--no-send-anonymous-usage-stats", "--log-level", "none"]

        started = time.perf_counter()
        trigger_dbt_cli_command("dbt build", project_dir=project, profiles_dir=profiles)
        first = time.perf_counter() - started  # dbt's import and the first parse included
        in_process = []
        for _ in range(RUNS):
            started = time.perf_counter()
            trigger_dbt_cli_command("dbt build", project_dir=project, profiles_dir=profiles)
            in_process.append(time.perf_counter() - started)
        command_line = []
        for _ in range(RUNS):
            started = time.perf_counter()
            subprocess.run(cli, check=True, capture_output=True)
            command_line.append(time.perf_counter() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    inner, outer = statistics.median(in_process), statistics.median(command_line)
    print(f"dbt build, 6 nodes on DuckDB, median of {RUNS} runs each:")
    print(f"  in process (trigger_dbt_cli_command) : {inner:6.3f} s "
          f"(first call, with dbt's import: {first:.3f} s)")
    print(f"  command line (dbt build)             : {outer:6.3f} s")
    print(f"  ratio command line / in process      : {outer / inner:6.2f} x  (target: > 1)")


if __name__ == "__main__":  # dbt's runner needs the guard in scripts
    main()
