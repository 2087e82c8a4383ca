"""core-blocks beside Prefect on this machine: the same measures, paired and interleaved.

    python bench/compare_prefect.py --prefect-python .bench/prefect-venv/bin/python

(`make bench-compare` builds that venv.) Each round runs every measure once on each side, the
side going first alternating between rounds; the table shows medians over the rounds
(CORE_BLOCKS_BENCH_ROUNDS, default 5) and Prefect's time over ours. Prefect runs against its
own server (`prefect server start` on 127.0.0.1, stopped by its process group id after), both
S3 clients against one moto server in its own process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from timing import scratch_home  # noqa: E402

WORKER = str(HERE / "compare_worker.py")
BIG_MIB, FILES, FILE_KIB = 64, 100, 64
SIDES = ("core", "prefect")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.25)
    sys.exit(f"{what} did not answer at {url} within {seconds:.0f} s; see {log}")


def stop(proc: subprocess.Popen) -> None:
    """Stop a server started in its own session: its process group, by the leader's id."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    except ProcessLookupError:
        pass


class Sides:
    """How to run each side: its Python, its console scripts, its environment."""

    def __init__(self, prefect_python: Path, work: Path):
        self.python = {"core": sys.executable, "prefect": str(prefect_python)}
        self.bin = {"core": Path(sys.executable).parent, "prefect": prefect_python.parent}
        core_env = dict(os.environ)  # scratch_home() put our throw-away home there
        prefect_env = {k: v for k, v in os.environ.items() if not k.startswith("CORE_BLOCKS_")}
        self.prefect_port = free_port()
        prefect_env.update(
            PREFECT_HOME=str(work / "prefect-home"),
            PREFECT_API_URL=f"http://127.0.0.1:{self.prefect_port}/api",
            PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false",
        )
        self.env = {"core": core_env, "prefect": prefect_env}

    def run(self, side: str, argv: list[str], timeout: float = 600) -> tuple[float, str]:
        started = time.perf_counter()
        out = subprocess.run(argv, env=self.env[side], capture_output=True, text=True,
                             timeout=timeout)
        spent = time.perf_counter() - started
        if out.returncode != 0:
            sys.exit(f"{side}: {' '.join(argv)} failed:\n{out.stderr[-3000:]}")
        return spent, out.stdout

    def worker(self, side: str, *args: str) -> dict[str, float]:
        _, stdout = self.run(side, [self.python[side], WORKER, side, *args], timeout=1800)
        line = next(s for s in stdout.splitlines() if s.startswith("RESULT "))
        return json.loads(line[len("RESULT "):])


def interleaved(rounds: int, measure) -> dict[str, dict[str, list[float]]]:
    """{label: {side: [values]}} from measure(side) -> {label: value}, sides alternating."""
    found: dict[str, dict[str, list[float]]] = {}
    for r in range(rounds):
        for side in (SIDES if r % 2 == 0 else SIDES[::-1]):
            for label, value in measure(side).items():
                found.setdefault(label, {s: [] for s in SIDES})[side].append(value)
    return found


def make_data(work: Path) -> None:
    with (work / "big.bin").open("wb") as fh:
        for _ in range(BIG_MIB):
            fh.write(os.urandom(1024 * 1024))
    for i in range(FILES):
        path = work / "folder" / f"part-{i // 20}" / f"file-{i:03d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(FILE_KIB * 1024))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def seconds(value: float) -> str:
    return f"{value * 1000:.3g} ms" if value < 1 else f"{value:.2f} s"


def show(label: str, values: dict[str, list[float]], rows: list[str]) -> None:
    ours, theirs = (statistics.median(values[s]) for s in SIDES)
    # Below a millisecond ours is noise-level (a backlog already written): no ratio then.
    ratio = f"{theirs / ours:,.1f}×" if ours >= 0.001 or theirs < 1 else "> 1,000×"
    print(f"{label:<34} {seconds(ours):>12} {seconds(theirs):>12} {ratio:>10}")
    rows.append(f"| {label} | {seconds(ours)} | {seconds(theirs)} | {ratio} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefect-python", type=Path, required=True)
    args = parser.parse_args()
    rounds = int(os.environ.get("CORE_BLOCKS_BENCH_ROUNDS", "5"))
    home = scratch_home()
    os.environ.pop("AWS_ENDPOINT_URL", None)
    work = Path(tempfile.mkdtemp(prefix="compare-bench-"))
    sides = Sides(args.prefect_python, work)
    _, version = sides.run("prefect", [sides.python["prefect"], "-c",
                                       "import prefect; print(prefect.__version__)"])
    prefect_server = moto = None
    try:
        print(f"machine: {machine()}\nPrefect {version.strip()}; {rounds} rounds, medians; "
              "ratio = Prefect's time / core-blocks' time\n")
        log = work / "prefect-server.log"
        prefect_server = subprocess.Popen(
            [str(sides.bin["prefect"] / "prefect"), "server", "start", "--host", "127.0.0.1",
             "--port", str(sides.prefect_port)], env=sides.env["prefect"],
            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(f"http://127.0.0.1:{sides.prefect_port}/api/health", 120, "prefect server", log)
        # The same 21 blocks on each side (Prefect 3 has no String block: all secrets).
        fill = ("from {module} import Secret\n"
                "for i in range(20):\n"
                "    Secret(value=f's{{i}}').save(f'secret-{{i}}', overwrite=True)\n"
                "Secret(value='x' * 32).save('db-password', overwrite=True)\n")
        sides.run("core", [sys.executable, "-c", fill.format(module="core_blocks")])
        sides.run("prefect", [sides.python["prefect"], "-c",
                              fill.format(module="prefect.blocks.system")])

        commands = {
            "--help": {"core": ["blocks", "--help"], "prefect": ["prefect", "--help"]},
            "ls (21 blocks)": {"core": ["blocks", "ls"], "prefect": ["prefect", "block", "ls"]},
        }
        fresh = {"core": "from core_blocks import Secret; Secret.load('db-password').get()",
                 "prefect": "from prefect.blocks.system import Secret; "
                            "Secret.load('db-password').get()"}

        def cli(side: str) -> dict[str, float]:
            found = {}
            for label, argv in commands.items():
                found[label] = sides.run(side, [str(sides.bin[side] / argv[side][0]),
                                                *argv[side][1:]])[0]
            found["fresh import + load"] = sides.run(side, [sides.python[side], "-c",
                                                            fresh[side]])[0]
            return found

        for side in SIDES:
            cli(side)  # a warm-up: the OS caches every file once
        results = interleaved(rounds, cli)
        results |= interleaved(rounds, lambda side: sides.worker(side, "blocks"))
        results |= interleaved(max(1, rounds // 2), lambda side: sides.worker(side, "tasks"))
        # Prefect's 1,000 Dask tasks take minutes here: one pair of runs unless asked for more.
        dask_rounds = int(os.environ.get("CORE_BLOCKS_BENCH_DASK_ROUNDS", "1"))
        results |= interleaved(dask_rounds, lambda side: sides.worker(side, "dask"))

        from s3_throughput import start_moto

        moto, url = start_moto(work / "moto.log")
        import boto3

        boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench",
                     aws_secret_access_key="bench").create_bucket(Bucket="compare-bench")
        make_data(work)
        results |= interleaved(rounds, lambda side: sides.worker(side, "s3", url, str(work)))

        rows = [f"Machine: {machine()}; Prefect {version.strip()} with its server on the same "
                "machine, core-blocks on SQLite with the file secret backend.", "",
                "| measure | core-blocks | Prefect | Prefect / core-blocks |", "|---|---|---|---|"]
        print(f"{'measure':<34} {'core-blocks':>14} {'Prefect':>14} {'ratio':>10}")
        for label, values in results.items():
            show(label, values, rows)
        print("\nS3Bucket against raw boto3 on its own side (raw time / S3Bucket time; ≥ 0.95 "
              "is on par):")
        for case in ("upload file", "download file", "upload folder", "download folder"):
            ratios = {side: statistics.median(results[f"raw boto3 {case}"][side])
                      / statistics.median(results[f"S3 {case}"][side]) for side in SIDES}
            print(f"  {case:<18} core-blocks {ratios['core']:.2f}   "
                  f"Prefect (prefect-aws) {ratios['prefect']:.2f}")
        print(f"\nS3 data: one {BIG_MIB} MiB file, a folder of {FILES} × {FILE_KIB} KiB files; "
              "raw boto3 folder runs use 10 threads.\n\nAs a Markdown table:\n")
        print("\n".join(rows))
    finally:
        if prefect_server is not None:
            stop(prefect_server)
        if moto is not None:
            moto.terminate()
            moto.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
