"""Every code example of README.md and the integrations' READMEs runs, as a user would run it.

Each README section runs in a fresh process (tests/docs/example_runner.py) with its own
CORE_BLOCKS_HOME and HOME, its examples in order; bash fences run their `blocks` commands in
that home. Examples that talk to a service get a local one: moto's server for AWS (through
the environment), the Slack API test server, a recording HTTP receiver for webhooks, the
Docker engine of DOCKER_HOST, the test PostgreSQL server for dbt (in a schema of its own).
What the test adds is listed below: endpoints replaced by local ones (SUBSTITUTIONS), the
buckets, files and blocks an example assumes exist (PRELUDES), and a call of the flow an
example defines (EPILOGUES). A failing example names the README line and the error; its test
id is `README:line` of its opening fence.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import service_missing
from tests.docs.readme_examples import ROOT, Example, all_examples, install_lines

EXAMPLES = all_examples()
RUNNER = Path(__file__).with_name("example_runner.py")
MAX_EXCLUSIONS = 11  # fences marked as not run, or run without their pip/make lines

# Which local services a README's sections talk to.
SERVICES = {
    "README.md": ("receiver",),
    "prefect_aws/README.md": ("moto",),
    "prefect_slack/README.md": ("slack",),
    "prefect_dbt/README.md": ("postgres",),
}

# Text of an example replaced before it runs: remote endpoints by local ones, and a path
# outside the section's folder by one inside. Values are formatted with the services'
# addresses ({receiver}, {slack_base_url}, ...).
SUBSTITUTIONS = {
    "README.md": [
        ("https://hooks.example.com/T0", "{receiver}/T0"),
        ("blocks ui ", "blocks ui --port 0 "),  # any free port: 8765 may be taken here
    ],
    "prefect_aws/README.md": [
        ('"/tmp/export.csv"', '"downloaded-export.csv"'),  # in the section's folder, not /tmp
    ],
    "prefect_dbt/README.md": [
        ('host="db.internal", user="etl", password="…", dbname="analytics", schema="marts",',
         'host="{pg_host}", port={pg_port}, user="{pg_user}", password="{pg_password}", '
         'dbname="{pg_dbname}", schema="{pg_schema}",'),
    ],
    "prefect_slack/README.md": [
        ('{"token": "xoxb-..."}', '{{"token": "{slack_token}", "base_url": "{slack_base_url}"}}'),
        ("https://hooks.slack.com/services/T0/B0/XXXX", "{slack_webhook}"),
    ],
}

_AWS_SETUP = """
import boto3
from pathlib import Path
_s3 = boto3.client("s3")
def _bucket(name, **objects):
    _s3.create_bucket(Bucket=name)
    for key, body in objects.items():
        _s3.put_object(Bucket=name, Key=key, Body=body)
"""

_DBT = "prefect_dbt/README.md"
_ORCHESTRATOR = "PrefectDbtOrchestrator (Prefect's dbt orchestrator)"

# Python run in a section's process before its first example: what the examples assume.
PRELUDES = {
    ("prefect_aws/README.md", "Quick start"): _AWS_SETUP + """
_bucket("my-raw-data")
Path("export.csv").write_text("id,amount\\n1,10\\n")
""",
    ("prefect_aws/README.md", "`aws-credentials` — `AwsCredentials`"): """
from prefect_aws import AwsCredentials as _Credentials
_Credentials(region_name="eu-west-1").save("prod")
""",
    ("prefect_aws/README.md", "`s3-bucket` — `S3Bucket` (an `ObjectStorageBlock`)"):
        _AWS_SETUP + """
from prefect_aws import S3Bucket as _Bucket
_bucket("raw", **{"landing/a.csv": b"a", "landing/inbox/a.csv": b"a"})
_bucket("backup"); _bucket("other-bucket"); _bucket("minio-raw", **{"x.parquet": b"PAR1"})
_Bucket(bucket_name="raw", bucket_folder="landing").save("raw")
_Bucket(bucket_name="backup").save("backup")
_Bucket(bucket_name="minio-raw").save("minio-raw")
Path("export.csv").write_text("id,amount\\n1,10\\n")
Path("big.bin").write_bytes(b"x" * 1024)
for _name in ("daily/a.csv", "project/flow.py", "project/build/out.txt"):
    Path(_name).parent.mkdir(parents=True, exist_ok=True)
    Path(_name).write_text("x\\n")
Path(".prefectignore").write_text("build/\\n")
""",
    ("prefect_aws/README.md", "`aws-secret` — `AwsSecret` (a `SecretBlock`)"): """
from prefect_aws import AwsCredentials as _Credentials
_Credentials(region_name="us-east-1").save("prod")
""",
    ("prefect_aws/README.md", "Tasks (`from prefect_aws.s3 import ...`)"): _AWS_SETUP + """
from prefect_aws import AwsCredentials as _Credentials
_bucket("raw"); _bucket("archive")
_Credentials(region_name="us-east-1").save("prod")
""",
    ("prefect_dbt/README.md", "Quick start"): """
from pathlib import Path
_profiles = Path.home() / ".dbt" / "profiles.yml"
_profiles.parent.mkdir(parents=True)
_profiles.write_text('''
jaffle_shop:
  target: prod
  outputs:
    prod:
      type: postgres
      host: db.internal
      user: etl
      password: "{{ env_var('DBT_PASSWORD') }}"
      port: 5432
      dbname: analytics
      schema: marts
      threads: 4
''')
import os
os.environ["DBT_PASSWORD"] = "readme-example-password"
Path("jaffle_shop/models").mkdir(parents=True)
Path("jaffle_shop/dbt_project.yml").write_text(
    "name: jaffle_shop\\nversion: '1.0'\\nconfig-version: 2\\nprofile: jaffle_shop\\n")
Path("jaffle_shop/models/orders.sql").write_text("select 1 as id\\n")
""",
    ("prefect_slack/README.md", "Quick start"): """
from pathlib import Path
Path("export.csv").write_text("id,amount\\n1,10\\n")
""",
    # A tiny shop project on DuckDB, its profiles.yml beside it (the database file lands in
    # the section's folder); customer_totals is tagged for the post_model hook's selector.
    (_DBT, _ORCHESTRATOR): """
from pathlib import Path
_files = {
    "dbt_project.yml": "name: shop\\nversion: '1.0'\\nprofile: shop\\nconfig-version: 2\\n",
    "profiles.yml": ("shop:\\n  target: dev\\n  outputs:\\n    dev:\\n      type: duckdb\\n"
                     "      path: shop.duckdb\\n      threads: 2\\n"),
    "seeds/raw_orders.csv": "id,customer,amount\\n1,ann,10\\n2,bob,20\\n3,ann,5\\n",
    "models/orders.sql": "select id, customer, amount from {{ ref('raw_orders') }}\\n",
    "models/customer_totals.sql": ("{{ config(tags=['finance']) }}\\nselect customer, "
                                   "sum(amount) as total from {{ ref('orders') }} "
                                   "group by customer\\n"),
    "models/schema.yml": ("version: 2\\nmodels:\\n  - name: orders\\n    columns:\\n"
                          "      - name: id\\n        data_tests: [unique, not_null]\\n"),
}
for _name, _text in _files.items():
    Path("shop", _name).parent.mkdir(parents=True, exist_ok=True)
    Path("shop", _name).write_text(_text)
""",
}

# Python run right after the example holding the text: the flow it defines, called.
EPILOGUES = {
    ("prefect_aws/README.md", "Quick start", "def nightly"): "nightly()",
    ("prefect_aws/README.md", "Tasks (`from prefect_aws.s3 import ...`)", "def archive"):
        "archive()",
    ("prefect_slack/README.md", "Quick start", "def nightly"): "nightly()",
    ("prefect_dbt/README.md", "Quick start", "def nightly"): "nightly()",
    # The build runs, and write_run_results=True left dbt's run_results.json behind.
    (_DBT, _ORCHESTRATOR, "def nightly():"): """
nightly()
import json as _json
assert len(_json.loads(Path("shop/target/run_results.json").read_text())["results"]) == 5
""",
    # As the README says: the second build serves the seed and models from the cache and runs
    # the tests again.
    (_DBT, _ORCHESTRATOR, "def nightly_nodes():"): """
_first, _second = nightly_nodes(), nightly_nodes()
assert {r["status"] for r in _first.values()} == {"success"}, _first
_statuses = {nid: r["status"] for nid, r in _second.items()}
assert len(_statuses) == 5 and all(
    status == ("success" if nid.startswith("test.") else "cached")
    for nid, status in _statuses.items()), _statuses
""",
}

# Examples that fail only because of a defect being fixed elsewhere: (README, section, text
# of the example) -> the defect. Strict: the mark goes once the fix is merged.
KNOWN_DEFECTS: dict[tuple[str, str, str], str] = {}


def _key_matches(table: dict, example: Example):
    for key, value in table.items():
        if key[:2] == (example.readme, example.section) and key[2] in example.code:
            yield value


def _params():
    """Every example that runs; those marked not run are counted by test_exclusions_stay_few
    instead of showing as skips."""
    for example in EXAMPLES:
        if example.not_run:
            continue
        marks = []
        for reason in _key_matches(KNOWN_DEFECTS, example):
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
        yield pytest.param(example, id=example.id, marks=marks)


class Section:
    """One README section's process, its folder, and the examples it ran."""

    def __init__(self, readme: str, name: str, folder: Path, env: dict[str, str],
                 services: dict[str, str]) -> None:
        self.readme, self.name, self.services = readme, name, services
        self.folder = folder
        self.log = open(folder / "output.log", "w")  # noqa: SIM115 (closed in close())
        self.process = subprocess.Popen(
            [sys.executable, str(RUNNER)], cwd=folder / "work", env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        prelude = PRELUDES.get((readme, name))
        if prelude:
            reply = self.request({"kind": "python", "code": prelude, "line": 0,
                                  "readme": "prelude"})
            assert reply["ok"], f"the test's prelude of {readme} '{name}' failed: {reply}"

    def request(self, request: dict) -> dict:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise AssertionError(f"the example process of {self.readme} '{self.name}' died; "
                                 f"its output:\n{self.output()}")
        return json.loads(answer)

    def run(self, example: Example) -> dict:
        code = example.runnable_code()
        for old, new in SUBSTITUTIONS.get(example.readme, ()):
            code = code.replace(old, new.format(**self.services))
        request = {"kind": example.kind, "code": code, "line": example.line,
                   "readme": example.readme, "readme_path": str(ROOT / example.readme)}
        if example.kind in ("files", "pytest"):
            request["files"] = {path: _substituted(text, example.readme, self.services)
                                for path, text in example.files().items()}
        reply = self.request(request)
        for epilogue in _key_matches(EPILOGUES, example):
            if reply["ok"]:
                reply = self.request({"kind": "python", "code": epilogue, "line": 0,
                                      "readme": f"the test's call after {example.id}"})
        return reply

    def output(self) -> str:
        self.log.flush()
        return "\n".join((self.folder / "output.log").read_text().splitlines()[-30:])

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _substituted(text: str, readme: str, services: dict[str, str]) -> str:
    for old, new in SUBSTITUTIONS.get(readme, ()):
        text = text.replace(old, new.format(**services))
    return text


@pytest.fixture(scope="session")
def readme_moto_url():
    """A moto server on 127.0.0.1 in its own process."""
    code = ("import sys\nfrom moto.server import ThreadedMotoServer\n"
            "server = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)\n"
            "server.start()\nprint(server.get_host_and_port()[1], flush=True)\n"
            "sys.stdin.read()\nserver.stop()\n")
    process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    port = process.stdout.readline().strip()
    if not port:
        service_missing("moto's server", "pip install 'moto[server]'")
    yield f"http://127.0.0.1:{port}"
    process.stdin.close()
    process.wait(timeout=30)


@pytest.fixture(scope="session")
def readme_slack():
    from prefect_slack.testing import SlackApiServer

    server = SlackApiServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def readme_receiver():
    from tests.http_receiver import Receiver

    receiver = Receiver()
    yield receiver
    receiver.close()


def _services(request, readme: str) -> tuple[dict[str, str], dict[str, str]]:
    """The environment a README's sections get for its local services, and the services'
    addresses for SUBSTITUTIONS. Called in pytest's thread: it starts session fixtures."""
    env: dict[str, str] = {}
    services: dict[str, str] = {}
    needs = SERVICES.get(readme, ())
    if "moto" in needs:
        url = request.getfixturevalue("readme_moto_url")
        env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
                   AWS_ENDPOINT_URL=url, CORE_BLOCKS_AWS_SECRETS_ENDPOINT_URL=url)
    if "slack" in needs:
        slack = request.getfixturevalue("readme_slack")
        slack.add_channel("data")
        services.update(slack_token=slack.token, slack_base_url=slack.base_url,
                        slack_webhook=slack.webhook_url("#alerts"))
    if "receiver" in needs:
        services["receiver"] = request.getfixturevalue("readme_receiver").url
    if "postgres" in needs:
        services.update(_postgres_schema(request))
    return env, services


def _postgres_schema(request) -> dict[str, str]:
    """The test PostgreSQL server's address and a new schema, dropped at the end."""
    import uuid
    from urllib.parse import unquote, urlsplit

    base = os.environ.get("CORE_BLOCKS_TEST_PG_URL")
    if not base:
        service_missing("PostgreSQL", "set CORE_BLOCKS_TEST_PG_URL (make test starts a server)")
    url = urlsplit(base)
    schema = f"readme_{uuid.uuid4().hex[:12]}"

    def drop() -> None:
        import psycopg

        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")

    request.addfinalizer(drop)
    return {"pg_host": url.hostname, "pg_port": str(url.port or 5432),
            "pg_user": unquote(url.username or ""), "pg_password": unquote(url.password or ""),
            "pg_dbname": url.path.lstrip("/"), "pg_schema": schema}


def _environment(folder: Path, service_env: dict[str, str]) -> dict[str, str]:
    """A section's environment: its own homes, no AWS or core-blocks settings of ours."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CORE_BLOCKS_", "AWS_", "PYTEST_"))}
    env.update(CORE_BLOCKS_HOME=str(folder / "core_blocks_home"), HOME=str(folder / "home"),
               CORE_BLOCKS_SECRET_BACKEND="file", COLUMNS="250",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
               **service_env)
    return env


def _run_readme(examples: list[Example], results: dict[str, Future], folder_of,
                service_env: dict[str, str], services: dict[str, str]) -> None:
    """Run one README's examples in order, a process per section; each result is (reply,
    the section's output)."""
    section = None
    try:
        for example in examples:
            if section is None or section.name != example.section:
                if section is not None:
                    section.close()
                folder = folder_of()
                for sub in ("work", "home"):  # CORE_BLOCKS_HOME is made by the project (0700)
                    (folder / sub).mkdir()
                section = Section(example.readme, example.section, folder,
                                  _environment(folder, service_env), services)
            reply = section.run(example)
            results[example.id].set_result((reply, "" if reply["ok"] else section.output()))
    except BaseException as exc:  # noqa: BLE001 (reported by every test still waiting)
        for future in results.values():
            if not future.done():
                future.set_exception(exc)
    finally:
        if section is not None:
            section.close()


@pytest.fixture(scope="module")
def example_results(request, tmp_path_factory):
    """The outcome of every selected example, by id. READMEs run side by side (their services
    are their own), each README's sections one after the other, in README order."""
    selected = [item.callspec.params["example"] for item in request.session.items
                if item.originalname == "test_readme_example"]
    by_readme: dict[str, list[Example]] = {}
    for example in selected:
        if not example.not_run:
            by_readme.setdefault(example.readme, []).append(example)
    results = {e.id: Future() for examples in by_readme.values() for e in examples}
    pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="readme")
    lock = threading.Lock()

    def new_folder() -> Path:
        with lock:
            return tmp_path_factory.mktemp("readme-section")

    for readme, examples in by_readme.items():
        service_env, services = _services(request, readme)
        pool.submit(_run_readme, sorted(examples, key=lambda e: e.line),
                    {e.id: results[e.id] for e in examples}, new_folder, service_env, services)
    yield results
    pool.shutdown(wait=True)


@pytest.mark.parametrize("example", list(_params()))
def test_readme_example(example: Example, example_results):
    reply, output = example_results[example.id].result(timeout=600)

    if not reply["ok"]:
        pytest.fail(f"{example.id} ({example.section}): {reply['error']}\n-- its output:\n"
                    f"{output}", pytrace=False)


def test_exclusions_stay_few():
    """What is not run is marked in the README with a reason, and the marks stay few."""
    marked = [e for e in EXAMPLES if e.not_run or e.install_reason]
    listed = [f"{e.id}: {e.not_run or e.install_reason}"
              + ("" if e.not_run else f" (lines {', '.join(map(str, e.skipped_lines))})")
              for e in marked]
    print(f"{len(marked)} fences not run, or run without their install lines:", *listed,
          sep="\n  ")
    assert all(e.not_run or e.skipped_lines for e in marked), listed
    assert len(marked) <= MAX_EXCLUSIONS, "\n".join(listed)


def test_install_lines_are_marked():
    """A fence whose pip or make lines would run unmarked is refused (they would install)."""
    unmarked = [f"{e.readme}:{line}" for e in EXAMPLES if not e.not_run and e.kind == "bash"
                for line in install_lines(e)]
    assert not unmarked, ("mark these fences with <!-- example: pip and make lines not run, "
                          f"REASON --> (or 'not run, REASON'): {unmarked}")


def test_every_readme_has_examples():
    readmes = {e.readme for e in EXAMPLES}
    assert readmes == {"README.md", *(f"prefect_{n}/README.md"
                                      for n in ("aws", "dbt", "docker", "slack"))}
