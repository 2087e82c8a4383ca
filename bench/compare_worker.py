"""One side of `make bench-compare`, run by that side's Python: core-blocks or Prefect.

    python compare_worker.py core|prefect blocks|tasks|dask|s3 [S3_URL WORK_DIR]

Prints one JSON object of measures in seconds. The driver (compare_prefect.py) sets up the
environment: a scratch CORE_BLOCKS_HOME, or PREFECT_API_URL of a running Prefect server.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

SEQUENTIAL, SUBMITTED = 1000, 500
BUCKET = "compare-bench"


def median_of(call: Callable[[int], object], runs: int) -> float:
    times = []
    for i in range(runs):
        started = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# -- blocks: warm load, save flat and nested ----------------------------------------------


def core_blocks_measures() -> dict[str, float]:
    from pydantic import Field, SecretStr

    from core_blocks import Block, Secret

    class BenchCredentials(Block):
        token: SecretStr = Field(description="A token")

    class BenchConnection(Block):
        host: str = Field(description="Host")
        credentials: BenchCredentials = Field(description="Credentials")

    Secret(value="x" * 32).save("db-password", overwrite=True)
    Secret.load("db-password")
    stamp = time.time_ns()  # each round saves new names in the same home
    return {
        "warm load": median_of(lambda i: Secret.load("db-password"), 500),
        "save flat": median_of(lambda i: Secret(value="v").save(f"flat-{stamp}-{i}"), 50),
        "save nested": median_of(lambda i: BenchConnection(
            host="db", credentials=BenchCredentials(token="t")).save(f"nested-{stamp}-{i}"), 50),
    }


def prefect_block_measures() -> dict[str, float]:
    from prefect.blocks.core import Block
    from prefect.blocks.system import Secret
    from pydantic import SecretStr

    class BenchCredentials(Block):
        token: SecretStr

    class BenchConnection(Block):
        host: str
        credentials: BenchCredentials

    Secret(value="x" * 32).save("db-password", overwrite=True)
    Secret.load("db-password")
    stamp = time.time_ns()
    return {
        "warm load": median_of(lambda i: Secret.load("db-password"), 50),
        "save flat": median_of(lambda i: Secret(value="v").save(f"flat-{stamp}-{i}"), 20),
        "save nested": median_of(lambda i: BenchConnection(
            host="db", credentials=BenchCredentials(token="t")).save(f"nested-{stamp}-{i}"), 20),
    }


# -- tasks: 1,000 sequential, the backlog after, 500 submitted ------------------------------


def core_task_measures() -> dict[str, float]:
    from timing import trivial_flows

    from core_blocks.runtime.history import flush

    sequential, submitted = trivial_flows()

    sequential(10)
    flush()
    started = time.perf_counter()
    sequential(SEQUENTIAL)
    ran = time.perf_counter() - started
    started = time.perf_counter()
    flush()  # every run and state transition is in the store after this
    backlog = time.perf_counter() - started
    started = time.perf_counter()
    submitted(SUBMITTED)
    return {"1,000 sequential tasks": ran, "backlog after them": backlog,
            "500 submitted tasks": time.perf_counter() - started}


def prefect_task_measures() -> dict[str, float]:
    from prefect import flow, task
    from prefect.runtime import flow_run

    @task
    def trivial(x: int) -> int:
        return x

    @flow
    def sequential(n: int) -> str:
        sum(trivial(i) for i in range(n))
        return flow_run.id

    @flow
    def submitted(n: int) -> int:
        return sum(f.result() for f in [trivial.submit(i) for i in range(n)])

    sequential(10)
    started = time.perf_counter()
    run_id = sequential(SEQUENTIAL)
    ran = time.perf_counter() - started
    # The backlog: task runs reach the server as events after the flow returned; wait until
    # the API holds all of them (two minutes at most).
    started = time.perf_counter()
    while (recorded_task_runs(str(run_id)) < SEQUENTIAL
           and time.perf_counter() - started < 120):
        time.sleep(0.05)
    backlog = time.perf_counter() - started
    started = time.perf_counter()
    submitted(SUBMITTED)
    return {"1,000 sequential tasks": ran, "backlog after them": backlog,
            "500 submitted tasks": time.perf_counter() - started}


def recorded_task_runs(flow_run_id: str) -> int:
    """How many task runs of a flow run Prefect's server holds (its REST count endpoint)."""
    import os
    import urllib.request

    body = json.dumps({"flow_runs": {"id": {"any_": [flow_run_id]}}}).encode()
    request = urllib.request.Request(f"{os.environ['PREFECT_API_URL']}/task_runs/count",
                                     data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(json.load(response))


# -- S3: the side's S3Bucket against raw boto3 on the same moto server ----------------------


def s3_measures(url: str, work: Path) -> dict[str, float]:
    import boto3

    from prefect_aws import AwsClientParameters, AwsCredentials, S3Bucket

    raw = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id="bench", aws_secret_access_key="bench")
    creds = AwsCredentials(aws_access_key_id="bench", aws_secret_access_key="bench",
                           region_name="us-east-1",
                           aws_client_parameters=AwsClientParameters(endpoint_url=url))
    bucket = S3Bucket(bucket_name=BUCKET, credentials=creds)
    big, folder, out = work / "big.bin", work / "folder", work / f"out-{time.time_ns()}"
    files = sorted(p for p in folder.rglob("*") if p.is_file())

    def raw_folder_up() -> None:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(10) as pool:
            list(pool.map(lambda p: raw.upload_file(
                str(p), BUCKET, f"raw-folder/{p.relative_to(folder).as_posix()}"), files))

    def raw_folder_down() -> None:
        from concurrent.futures import ThreadPoolExecutor

        def one(p: Path) -> None:
            key = f"raw-folder/{p.relative_to(folder).as_posix()}"
            target = out / "raw" / key
            target.parent.mkdir(parents=True, exist_ok=True)
            raw.download_file(BUCKET, key, str(target))

        with ThreadPoolExecutor(10) as pool:
            list(pool.map(one, files))

    cases = {
        "S3 upload file": lambda: bucket.upload_from_path(str(big), "big.bin"),
        "raw boto3 upload file": lambda: raw.upload_file(str(big), BUCKET, "raw-big.bin"),
        "S3 download file": lambda: bucket.download_object_to_path("big.bin", out / "big.bin"),
        "raw boto3 download file": lambda: raw.download_file(BUCKET, "raw-big.bin",
                                                             str(out / "raw-big.bin")),
        "S3 upload folder": lambda: bucket.upload_from_folder(str(folder), "folder"),
        "raw boto3 upload folder": raw_folder_up,
        "S3 download folder": lambda: bucket.download_folder_to_path("folder", out / "folder"),
        "raw boto3 download folder": raw_folder_down,
    }
    out.mkdir(parents=True)
    results = {}
    for label, call in cases.items():
        started = time.perf_counter()
        call()
        results[label] = time.perf_counter() - started
    return results


# -- Dask: the side's DaskTaskRunner on a LocalCluster of 4 worker processes -----------------

DASK_WORKERS, DASK_TRIVIAL, DASK_SLEEPING, DASK_NAP = 4, 1000, 200, 0.05


def dask_measures(side: str) -> dict[str, float]:
    """1,000 trivial tasks and 200 x 50 ms tasks through the side's `prefect_dask`, on one
    cluster started outside the timings (as a team's flows reuse their scheduler)."""
    from distributed import LocalCluster

    from prefect_dask import DaskTaskRunner

    if side == "core":
        from core_blocks import flow, task
    else:
        from prefect import flow, task

    @task
    def trivial(n: int) -> int:
        return n

    @task
    def sleepy(n: int) -> int:
        time.sleep(DASK_NAP)
        return n

    cluster = LocalCluster(n_workers=DASK_WORKERS, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address="127.0.0.1:0")
    try:
        def timed(fn, count: int) -> float:
            @flow(task_runner=DaskTaskRunner(address=cluster.scheduler_address))
            def fan_out() -> list[int]:
                return [f.result() for f in fn.map(range(count))]

            started = time.perf_counter()
            assert fan_out() == list(range(count))
            return time.perf_counter() - started

        timed(trivial, 20)  # warm-up: the workers' imports
        return {f"Dask: {DASK_TRIVIAL:,} trivial tasks": timed(trivial, DASK_TRIVIAL),
                f"Dask: {DASK_SLEEPING} x 50 ms tasks": timed(sleepy, DASK_SLEEPING)}
    finally:
        cluster.close()


def main() -> None:
    side, group = sys.argv[1], sys.argv[2]
    if group == "blocks":
        result = core_blocks_measures() if side == "core" else prefect_block_measures()
    elif group == "tasks":
        result = core_task_measures() if side == "core" else prefect_task_measures()
    elif group == "dask":
        result = dask_measures(side)
    else:
        result = s3_measures(sys.argv[3], Path(sys.argv[4]))
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
