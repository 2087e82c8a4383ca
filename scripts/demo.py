"""End-to-end demo on embedded defaults: SQLite store, encrypted-file secrets, a local receiver.

Run by `make demo` with CORE_BLOCKS_HOME pointing at a fresh folder. It drives the `blocks`
CLI the way a user would, then loads the blocks in Python, writes and reads a file through
LocalFileSystem, sends a notification through Webhook, and prints a summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOME = Path(os.environ["CORE_BLOCKS_HOME"])
DEMO_SECRET = "demo-warehouse-password"  # the demo checks it never lands in the store file


def blocks(*args: str, stdin: str | None = None) -> str:
    """Run the `blocks` CLI, echoing the command and its output."""
    print(f"\n$ blocks {' '.join(args)}", flush=True)
    started = time.perf_counter()
    result = subprocess.run(["blocks", *args], input=stdin, capture_output=True, text=True)
    elapsed = (time.perf_counter() - started) * 1000
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        raise SystemExit(f"demo: `blocks {' '.join(args)}` exited {result.returncode}")
    print(f"  ({elapsed:.0f} ms)")
    return result.stdout


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append({"path": self.path, "json": json.loads(body),
                              "authorization": self.headers.get("Authorization")})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def run_flows(exports) -> bool:
    """A flow with a retried task, and a failing flow announced by an on_failure hook."""
    print("\n# Flows: a task retried once, a failure announced on webhook/alerts")
    from core_blocks import flow, notify, task
    from core_blocks.runtime.history import flush

    attempts: list[float] = []

    @task(retries=2, retry_delay_seconds=0.2)
    def fetch_rows() -> list[dict]:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise ConnectionError("warehouse not ready yet (the demo fails the first try)")
        return [{"id": 1, "amount": 42}, {"id": 2, "amount": 7}]

    @task
    def export(rows: list[dict]) -> str:
        lines = ["id,amount", *(f"{r['id']},{r['amount']}" for r in rows)]
        return exports.write_path("2026/11/25.csv", ("\n".join(lines) + "\n").encode())

    @flow(name="nightly-export")
    def nightly_export() -> str:
        return export(fetch_rows())

    @flow(name="broken-export", on_failure=[notify("webhook/alerts")])
    def broken_export() -> None:
        raise RuntimeError("the demo's broken flow failed on purpose")

    path = nightly_export()
    print(f"nightly-export wrote {path} after {len(attempts)} attempts of fetch_rows")
    before = len(_Receiver.received)
    try:
        broken_export()
    except RuntimeError as exc:
        print(f"broken-export raised as expected: {exc}")
    flush()  # the CLI below reads the run history from the store
    alert = _Receiver.received[before:]
    if alert:
        print(f"on_failure hook sent: {alert[-1]['json']['text']}")
    return len(attempts) == 2 and len(alert) == 1 and "Failed" in alert[-1]["json"]["text"]


_MOTO = """
import sys
from moto.server import ThreadedMotoServer

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # serve until the demo closes our stdin
server.stop()
"""


def run_s3_stage(exports) -> bool:
    """core-blocks-aws: blocks for a local S3 (moto), and a flow moving the export through it."""
    print("\n# S3 (core-blocks-aws) against a moto server on 127.0.0.1")
    server = subprocess.Popen([sys.executable, "-c", _MOTO], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        endpoint = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        blocks("create", "aws-client-parameters/local-s3", "--set", f"endpoint_url={endpoint}")
        blocks("create", "aws-credentials/demo", "--from-json", "-", stdin=json.dumps({
            "aws_access_key_id": "demo-key-id", "aws_secret_access_key": "demo-secret-key",
            "region_name": "us-east-1", "aws_client_parameters": "aws-client-parameters/local-s3",
        }))
        blocks("create", "s3-bucket/raw", "--set", "bucket_name=demo-raw",
               "--set", "credentials=aws-credentials/demo", "--set", "bucket_folder=exports")
        return _s3_flow(exports)
    finally:
        server.stdin.close()
        server.wait(timeout=30)


def _s3_flow(exports) -> bool:
    from core_blocks import flow
    from prefect_aws import AwsCredentials, S3Bucket
    from prefect_aws.s3 import s3_list_objects

    @flow(name="publish-export")
    def publish_export() -> list[str]:
        bucket = S3Bucket.load("raw")
        bucket.credentials.get_s3_client().create_bucket(Bucket=bucket.bucket_name)
        local = Path(exports.basepath) / "2026/11/25.csv"
        bucket.upload_from_path(local, "2026/11/25.csv")
        assert bucket.read_path("2026/11/25.csv") == local.read_bytes()
        listed = s3_list_objects(bucket.bucket_name, AwsCredentials.load("demo"),
                                 prefix="exports/")
        return [o["Key"] for o in listed]

    keys = publish_export()
    print(f"publish-export uploaded and read back s3://demo-raw/{keys[0] if keys else '?'}")
    return keys == ["exports/2026/11/25.csv"]


def run_slack_stage() -> bool:
    """A failing flow whose on_failure hook posts a Block Kit alert through a SlackWebhook,
    to the local Slack API test server that prefect_slack ships for tests."""
    print("\n# Slack: a failure announced on slack-webhook/alerts (local Slack API server)")
    from core_blocks import flow, notify
    from prefect_slack.testing import SlackApiServer

    slack = SlackApiServer()
    try:
        blocks("create", "slack-webhook/alerts", "--from-json", "-",
               stdin=json.dumps({"url": slack.webhook_url("#alerts")}))

        @flow(name="broken-load", on_failure=[notify("slack-webhook/alerts")])
        def broken_load() -> None:
            raise RuntimeError("the demo's broken load failed on purpose")

        try:
            broken_load()
        except RuntimeError:
            pass
        received = slack.messages
        for message in received:
            print(f"Slack received in #{message['channel_name']}:")
            for block in message["blocks"]:
                texts = [block["text"]["text"]] if "text" in block else \
                    [f["text"] for f in block.get("fields", block.get("elements", []))]
                print("  " + " | ".join(t.replace("\n", " ") for t in texts))
        return (len(received) == 1 and len(slack.received("webhook")) == 1
                and "Failed" in received[0]["text"])
    finally:
        slack.close()


def run_docker_stage() -> str:
    """core-blocks-docker: a container run in a flow, on a Docker engine the demo starts itself.

    Never on the user's engine (DOCKER_HOST or the default socket): that is shared, and the
    demo's image and container have no place there. Returns "ok", "FAILED" or why it was
    skipped; the image is built FROM scratch out of the host's static busybox (nothing is
    pulled) and goes with the engine.
    """
    import tempfile

    from demo_docker_engine import EngineUnavailable, private_engine

    from prefect_docker import DockerError, DockerHost
    from prefect_docker.testing.contexts import MissingTool, busybox_context
    from prefect_docker.testing.images import ImageBuilder

    print("\n# Docker (core-blocks-docker): a container run in a flow, on the demo's own engine")
    try:
        with private_engine() as base_url:
            host = DockerHost(base_url=base_url, timeout=10)
            with tempfile.TemporaryDirectory() as tmp:
                image = ImageBuilder(host, prefix="core-blocks-demo")(
                    busybox_context(Path(tmp) / "busybox"))
            blocks("create", "docker-host/demo-engine", "--set", f"base_url={base_url}")
            ok = _docker_flow(image)
            blocks("delete", "docker-host/demo-engine", "--yes")  # the engine stops next
            return "ok" if ok else "FAILED"
    except (EngineUnavailable, DockerError, MissingTool) as exc:
        reason = f"skipped: {exc}"
        print(f"Docker stage {reason}")
        return reason


def _docker_flow(image: str) -> bool:
    from core_blocks import flow
    from prefect_docker import DockerHost
    from prefect_docker.containers import run_container

    @flow(name="container-hello")
    def container_hello() -> str:
        result = run_container(image, ["echo", "hello from a container"], network_mode="none",
                               docker_host=DockerHost.load("demo-engine"))
        return result.logs

    logs = container_hello()
    print(f"container-hello ran a container that said {logs.strip()!r}")
    return logs == "hello from a container"


_DBT_PROJECT = {
    "dbt_project.yml": "name: demo\nversion: '1.0'\nprofile: demo\nconfig-version: 2\n",
    # Every CSV the demo exported through local-file-system/exports, one row per order.
    "models/exported_orders.sql": (
        "select regexp_extract(filename, '(\\d+)\\.csv$', 1)::int as day, id, amount\n"
        "from read_csv('{{ var(\"exports\") }}/2026/11/*.csv', filename = true)\n"),
    "models/daily_totals.sql": (
        "select day, count(*) as orders, sum(amount) as total\n"
        "from {{ ref('exported_orders') }} group by day order by day\n"),
    "models/schema.yml": (
        "version: 2\nmodels:\n  - name: daily_totals\n    columns:\n      - name: day\n"
        "        data_tests: [unique, not_null]\n"),
}


def run_dbt_stage(exports) -> bool:
    """core-blocks-dbt: a DuckDB model over the demo's exports, built in process by a task."""
    print("\n# dbt (core-blocks-dbt): a DuckDB model over the exported CSVs")
    from core_blocks import flow
    from prefect_dbt import DbtCliProfile, DuckDbTargetConfigs
    from prefect_dbt.cli.commands import trigger_dbt_cli_command

    project = HOME.parent / "dbt-demo"
    for name, text in _DBT_PROJECT.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    DbtCliProfile(name="demo", target="dev", target_configs=DuckDbTargetConfigs(
        path=str(project / "warehouse.duckdb"), threads=2)).save("demo-warehouse")

    @flow(name="transform-exports")
    def transform_exports():
        return trigger_dbt_cli_command(
            "dbt build", project_dir=project, dbt_cli_profile=DbtCliProfile.load("demo-warehouse"),
            extra_command_args=["--vars", json.dumps({"exports": exports.basepath})])

    result = transform_exports()
    for node in result.nodes:
        print(f"  {node.unique_id:<55} {node.status:<8} {node.execution_time:.3f} s")
    from core_blocks.runtime.history import list_runs
    from core_blocks.store import get_store

    task_run = list_runs(get_store(), kind="task", limit=1)[0]
    shown = blocks("runs", "show", task_run["name"])
    return result.success and len(result.nodes) == 4 and "dbt-build-results" in shown


def run_dask_stage() -> bool:
    """core-blocks-dask: a flow's tasks on a temporary local Dask cluster of two worker
    processes; a saved Secret reaches them by name and their runs land in this store."""
    print("\n# Dask: four tasks on two worker processes (a temporary LocalCluster)")
    import os

    from core_blocks import Secret, flow, task
    from core_blocks.runtime import history
    from core_blocks.store import get_store
    from core_blocks.tasks import unmapped
    from prefect_dask import DaskTaskRunner

    Secret(value="demo-dask-token").save("dask-token", overwrite=True)

    @task
    def checksum(part: int, token: Secret) -> tuple[int, int]:
        return part * len(token.get()), os.getpid()

    @flow(task_runner=DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1,
                                                     "dashboard_address": None}))
    def spread() -> list[tuple[int, int]]:
        token = Secret.load("dask-token")
        return [f.result() for f in checksum.map(range(4), token=unmapped(token))]

    results = spread()
    [flow_run] = history.list_runs(get_store(), kind="flow", flow="spread", limit=1)
    workers = {c["worker"] for c in history.get_run(get_store(), flow_run["id"])["children"]}
    print(f"results {[value for value, _ in results]} from worker processes "
          f"{sorted({pid for _, pid in results})}; recorded workers: {', '.join(sorted(workers))}")
    return [value for value, _ in results] == [0, 15, 30, 45] and os.getpid() not in {
        pid for _, pid in results} and None not in workers


def main() -> None:
    HOME.mkdir(mode=0o700, parents=True, exist_ok=True)  # private, as doctor expects
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{receiver.server_port}/alerts"
    storage = HOME.parent / "storage"

    print(f"core-blocks demo — CORE_BLOCKS_HOME={HOME}")
    blocks("types")
    blocks("create", "secret/warehouse-password", "--from-json", "-",
           stdin=json.dumps({"value": DEMO_SECRET}))
    blocks("create", "local-file-system/exports", "--set", f"basepath={storage}")
    blocks("create", "webhook/alerts", "--from-json", "-", stdin=json.dumps({
        "url": hook_url,
        "headers": {"Authorization": "Bearer demo-token"},
        "body_template": '{"text": "[$subject] $body"}',
    }))
    blocks("ls")
    blocks("inspect", "webhook/alerts")
    blocks("doctor")

    print("\n# Loading the blocks in Python")
    from core_blocks import Block, LocalFileSystem, Secret, Webhook

    started = time.perf_counter()
    password = Secret.load("warehouse-password")
    exports = LocalFileSystem.load("exports")
    alerts = Block.load("webhook/alerts")
    load_ms = (time.perf_counter() - started) * 1000
    assert isinstance(alerts, Webhook)
    print(f"loaded 3 blocks in {load_ms:.1f} ms: {password!r}")

    path = exports.write_path("2026/11/24.csv", b"id,amount\n1,42\n")
    content = exports.read_path(path)
    print(f"wrote and read {path} through local-file-system/exports ({len(content)} bytes)")

    alerts.notify("nightly export finished: 1 row", subject="demo")
    message = _Receiver.received[-1]
    print(f"webhook/alerts delivered {message['json']} with its secret Authorization header")

    runs_ok = run_flows(exports)
    blocks("runs", "ls", "--limit", "6")
    receiver.shutdown()
    s3_ok = run_s3_stage(exports)
    dbt_ok = run_dbt_stage(exports)
    slack_ok = run_slack_stage()
    docker_status = run_docker_stage()
    dask_ok = run_dask_stage()

    store_bytes = (HOME / "blocks.db").read_bytes()
    leaked = any(secret in store_bytes for secret in
                 (DEMO_SECRET.encode(), b"demo-token", b"demo-secret-key"))
    print("\n# Summary")
    print(f"  blocks saved          : {len(Block.list())} ({', '.join(Block.list())})")
    print(f"  secret backend        : encrypted file {HOME / 'secrets.db'}")
    print(f"  secrets in blocks.db  : {'LEAKED' if leaked else 'none (placeholders only)'}")
    print(f"  file round trip       : {'ok' if content.startswith(b'id,amount') else 'FAILED'}")
    print(f"  notification received : {'ok' if message['authorization'] else 'FAILED'}")
    print(f"  flows and hooks       : {'ok' if runs_ok else 'FAILED'}")
    print(f"  S3 round trip (moto)  : {'ok' if s3_ok else 'FAILED'}")
    print(f"  dbt build (DuckDB)    : {'ok' if dbt_ok else 'FAILED'}")
    print(f"  Slack alert (local)   : {'ok' if slack_ok else 'FAILED'}")
    print(f"  Docker container run  : {docker_status}")
    print(f"  Dask tasks (2 workers): {'ok' if dask_ok else 'FAILED'}")
    if leaked or not message["authorization"] or not runs_ok or not s3_ok or not dbt_ok \
            or not slack_ok or docker_status == "FAILED" or not dask_ok:
        raise SystemExit("demo: a check failed")
    print("demo: all stages passed")


if __name__ == "__main__":
    main()
