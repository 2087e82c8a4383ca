"""Run history in the store and `blocks runs`: ids, parents, redacted parameters, state
transitions, errors; log_prints; nested flows; the notify() hook.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import time

import pytest
from pydantic import Field, SecretStr

from core_blocks import (
    Block,
    RunTimeoutError,
    Secret,
    Webhook,
    flow,
    get_run_context,
    notify,
    task,
    task_input_hash,
)
from core_blocks.abstract import NotificationBlock
from core_blocks.runtime import history
from core_blocks.runtime.redaction import REDACTED
from core_blocks.store import get_store
from tests.helpers import BLOCKS


def blocks(*args: str) -> subprocess.CompletedProcess:
    history.flush()
    return subprocess.run([BLOCKS, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "250"})


def blocks_json(*args: str):
    done = blocks(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def get_run(run_id: str) -> dict:
    run = history.get_run(get_store(), run_id)
    assert run is not None, run_id
    return run


def state_names(run: dict) -> list[str]:
    return [s["name"] for s in run["states"]]


def current_run_id() -> str:
    return get_run_context().run.id


# -- what a run records -------------------------------------------------------------------------

def test_runs_record_ids_parents_parameters_states_and_errors():
    """A flow and its tasks: ids, names, parent, flow name, parameters, ordered states, error."""
    @task
    def extract(n):
        return list(range(n))

    @task(retries=1, retry_delay_seconds=0.02)
    def load(rows, table="events"):
        raise ValueError(f"table {table} is locked")

    @flow
    def pipeline(n: int, label: str = "nightly"):
        load(extract(n), return_state=True)
        return current_run_id()

    flow_id = pipeline(3)
    run = get_run(flow_id)
    assert run["kind"] == "flow" and run["name"] == f"pipeline-{flow_id[:8]}"
    assert run["parent_id"] is None and run["flow_name"] == "pipeline"
    assert run["parameters"] == {"n": 3, "label": "nightly"}
    assert run["state"] == "Completed" and run["attempts"] == 1 and run["error_type"] is None
    assert state_names(run) == ["Pending", "Running", "Completed"]
    assert run["duration"] >= 0 and run["started"] <= run["ended"]
    extract_run, load_run = run["children"]
    assert extract_run["fn_name"] == "extract" and extract_run["parameters"] == {"n": 3}
    assert load_run["parameters"] == {"rows": [0, 1, 2], "table": "events"}
    for child in (extract_run, load_run):
        assert child["kind"] == "task" and child["parent_id"] == flow_id
        assert child["flow_name"] == "pipeline"
    load_full = get_run(load_run["id"])
    assert state_names(load_full) == ["Pending", "Running", "Retrying", "Running", "Failed"]
    stamps = [s["at"] for s in load_full["states"]]
    assert stamps == sorted(stamps) and stamps[3] - stamps[2] >= 0.02
    assert "retrying in" in load_full["states"][2]["message"]
    assert load_full["attempts"] == 2 and load_full["state"] == "Failed"
    assert load_full["error_type"] == "ValueError"
    assert load_full["error_message"] == "table events is locked"
    assert load_full["traceback"].startswith("Traceback (most recent call last)")
    assert 'raise ValueError(f"table {table} is locked")' in load_full["traceback"]


def test_flow_retry_timeout_crash_and_cache_are_recorded():
    """Retried flows, TimedOut and Crashed runs, and cache hits all reach history."""
    ids = {}
    tries = []

    @flow(retries=1)
    def second_time_lucky():
        ids["retried"] = current_run_id()
        tries.append(1)
        if len(tries) == 1:
            raise RuntimeError("first")

    @task(timeout_seconds=0.1)
    def slow():
        ids["slow"] = current_run_id()
        time.sleep(0.5)

    @flow
    def crashes():
        ids["crashed"] = current_run_id()
        raise KeyboardInterrupt

    @task(cache_key_fn=task_input_hash)
    def cached(x):
        return x

    second_time_lucky()
    assert slow(return_state=True).is_failed()
    with pytest.raises(KeyboardInterrupt):
        crashes()
    cached(1)
    hit = cached(1, return_state=True)
    retried = get_run(ids["retried"])
    assert state_names(retried) == ["Pending", "Running", "Retrying", "Running", "Completed"]
    assert retried["attempts"] == 2 and retried["error_type"] is None
    timed_out = get_run(ids["slow"])
    assert timed_out["state"] == "TimedOut"
    assert timed_out["error_type"] == RunTimeoutError.__qualname__
    assert "exceeded timeout_seconds=0.1" in timed_out["error_message"]
    crashed = get_run(ids["crashed"])
    assert crashed["state"] == "Crashed" and crashed["error_type"] == "KeyboardInterrupt"
    cached_runs = history.list_runs(get_store(), state="Completed", kind="task")
    assert [r["state_name"] for r in cached_runs[:2]] == ["Cached", "Completed"]
    assert hit.name == "Cached"


def test_async_flow_timeout_cancels_the_awaited_task():
    """An async flow that times out is TimedOut; the task it was awaiting is Cancelled."""
    ids = {}

    @task
    async def wait_forever():
        ids["task"] = current_run_id()
        await asyncio.sleep(2)

    @flow(timeout_seconds=0.1)
    async def impatient():
        ids["flow"] = current_run_id()
        await wait_forever()

    assert asyncio.run(impatient(return_state=True)).name == "TimedOut"
    assert get_run(ids["flow"])["state"] == "TimedOut"
    cancelled = get_run(ids["task"])
    assert cancelled["state"] == "Cancelled" and cancelled["parent_id"] == ids["flow"]
    assert cancelled["error_type"] == "CancelledError"


def test_secret_parameters_are_redacted_everywhere(canary, block_home):
    """SecretStr, Secret blocks and secret-named parameters are ********** in history."""
    @task
    def connect(host, password):
        return host

    @flow
    def login(user: str, password: str, token: SecretStr, creds: Secret, options: dict):
        connect("db", password)
        return current_run_id()

    flow_id = login("alice", canary, SecretStr(canary), Secret(value=canary),
                    {"api_key": canary, "region": "eu"})
    run = get_run(flow_id)
    assert run["parameters"] == {
        "user": "alice", "password": REDACTED, "token": REDACTED,
        "creds": {"$block": "<unsaved secret>", "value": REDACTED},
        "options": {"api_key": REDACTED, "region": "eu"},
    }
    assert run["children"][0]["parameters"] == {"host": "db", "password": REDACTED}
    shown = blocks("runs", "show", flow_id)
    assert shown.returncode == 0 and REDACTED in shown.stdout and "alice" in shown.stdout
    as_json = blocks_json("runs", "show", flow_id[:10])
    assert as_json["parameters"]["password"] == REDACTED
    listing = blocks("runs", "ls", "--json")
    for output in (shown.stdout, shown.stderr, json.dumps(as_json), listing.stdout):
        assert canary not in output
    history.flush()
    for path in block_home.glob("blocks.db*"):
        assert canary.encode() not in path.read_bytes(), path.name


def test_numeric_password_parameter_is_redacted():
    """A parameter named password is redacted whatever its type (a numeric PIN, say)."""
    @flow
    def unlock(password: int, retries: int):
        return current_run_id()

    run = get_run(unlock(424242, 3))
    assert run["parameters"]["retries"] == 3
    assert run["parameters"]["password"] == REDACTED, run["parameters"]


@pytest.mark.parametrize("name", ["SSECustomerKey", "encryption_key", "client_secret",
                                  "api_key", "auth_token", "db_passwd", "signing_key"])
def test_secret_looking_names_are_redacted_even_nested(name, canary):
    """Secret-looking names are redacted at any depth (e.g. inside **kwargs); others kept."""
    @flow
    def copy(key: str, **extra):
        return current_run_id()

    run = get_run(copy("a.csv", options={name: canary, "StorageClass": "GLACIER"}))
    assert run["parameters"] == {
        "key": "a.csv",
        "extra": {"options": {name: REDACTED, "StorageClass": "GLACIER"}}}


@pytest.mark.parametrize("name", ["X-Api-Key", "private-key", "Proxy-Authorization",
                                  "privateKey", "X API KEY", "Set-Cookie"])
def test_header_style_secret_names_are_redacted_at_any_depth(name, canary):
    """Case, '-', '_', spaces and camelCase do not hide a secret name: as a keyword, a dict key
    at any depth, or a (name, value) pair in a header list."""
    @flow
    def call(url: str, **extra):
        return current_run_id()

    run = get_run(call("https://api.example.invalid", **{name: canary},
                       request={"headers": {name: canary, "Accept": "json"}},
                       header_list=[(name, canary), ("Accept", "json")]))
    assert run["parameters"] == {
        "url": "https://api.example.invalid",
        "extra": {name: REDACTED, "request": {"headers": {name: REDACTED, "Accept": "json"}},
                  "header_list": [[name, REDACTED], ["Accept", "json"]]}}


class Database(Block):
    """A block with a nested block, for the run-history tests."""

    host: str = Field(description="Server host name")
    password: SecretStr = Field(description="Login password")
    login: Secret = Field(description="A nested secret block")


def test_block_parameters_are_recorded_by_reference(canary):
    """A saved block is its "type-slug/name"; an unsaved one its type and fields, secret
    fields redacted and saved nested blocks by reference."""
    login = Secret(value=canary)
    login.save("db-login")
    Database(host="db-1", password=canary, login=login).save("warehouse")

    @flow
    def report(db: Database, fresh: Database, logins: list[Secret]):
        return current_run_id()

    run = get_run(report(Database.load("warehouse"),
                         Database(host="db-2", password=canary, login=Secret.load("db-login")),
                         [Secret.load("db-login"), Secret(value=canary)]))
    assert run["parameters"] == {
        "db": "database/warehouse",
        "fresh": {"$block": "<unsaved database>", "host": "db-2", "password": REDACTED,
                  "login": "secret/db-login"},
        "logins": ["secret/db-login", {"$block": "<unsaved secret>", "value": REDACTED}],
    }


def test_errors_quoting_a_received_secret_are_masked(canary, caplog, block_home):
    """A secret of a block the run received (nested at any depth), quoted by the error, is
    masked in the error message, traceback, state messages and logs of the task and of the
    flow the error reaches, and in `blocks runs show`."""
    caplog.set_level(logging.DEBUG, logger="core_blocks")
    ids = {}

    @task(retries=1)
    def connect(db: Database):
        ids["task"] = current_run_id()
        raise ConnectionError(f"login {db.login.get()!r} refused by {db.host} "
                              f"(password {db.password.get_secret_value()})")

    @flow
    def nightly(db: Database):
        ids["flow"] = current_run_id()
        connect(db)

    state = nightly(Database(host="db-1", password=canary + "-pw", login=Secret(value=canary)),
                    return_state=True)
    assert state.is_failed()
    for run_id in (ids["task"], ids["flow"]):
        run = get_run(run_id)
        assert run["error_type"] == "ConnectionError"
        assert run["error_message"] == f"login '{REDACTED}' refused by db-1 (password {REDACTED})"
        assert "refused by db-1" in run["traceback"] and canary not in run["traceback"]
        assert all(canary not in (s["message"] or "") for s in run["states"])
        shown = blocks("runs", "show", run_id)
        assert shown.returncode == 0 and REDACTED in shown.stdout
        assert canary not in shown.stdout + shown.stderr
    assert "Retrying" in state_names(get_run(ids["task"]))
    assert canary not in caplog.text
    history.flush()
    for path in block_home.glob("blocks.db*"):
        assert canary.encode() not in path.read_bytes(), path.name


def test_a_secret_parameter_that_contains_itself_is_recorded():
    """Walking a secret's values for masking stops, like redaction, on a self-reference."""
    options = {"user": "etl", "pin": "12345"}
    options["self"] = options

    @flow
    def connect(password: dict, fail: bool):
        if fail:
            raise ValueError("pin 12345 refused")
        return current_run_id()

    assert get_run(connect(options, False))["parameters"]["password"] == REDACTED
    state = connect(options, True, return_state=True)
    assert state.is_failed() and state.message == f"ValueError: pin {REDACTED} refused"


def test_bytes_parameters_are_recorded_by_size_not_content():
    """A 5 MB payload is recorded as its size: history must not hold (or spend time on) data."""
    @flow
    def upload(data: bytes, key: str):
        return current_run_id()

    run = get_run(upload(b"\x00" * 5_000_000, "a.bin"))
    assert run["parameters"] == {"data": "<5,000,000 bytes>", "key": "a.bin"}


# -- blocks runs ls / show ----------------------------------------------------------------------

def make_runs() -> dict[str, str]:
    """alpha (ok, 2 tasks), alpha (failed, 1 task), beta (ok): returns flow run ids."""
    ids = {}

    @task
    def step(i):
        return i

    @task
    def explode():
        raise ValueError("alpha broke")

    @flow
    def alpha(fail: bool):
        ids["alpha-failed" if fail else "alpha-ok"] = current_run_id()
        if fail:
            explode()
        step(1)
        step(2)

    @flow
    def beta():
        ids["beta"] = current_run_id()

    alpha(False)
    with pytest.raises(ValueError):
        alpha(True)
    beta()
    return ids


def test_runs_ls_filters():
    """`blocks runs ls` with --flow, --state, --kind, --limit and --json."""
    ids = make_runs()
    everything = blocks_json("runs", "ls")
    assert len(everything) == 6 and all("traceback" not in r for r in everything)
    created = [r["created"] for r in everything]
    assert created == sorted(created, reverse=True)
    alpha = blocks_json("runs", "ls", "--flow", "alpha")
    assert len(alpha) == 5 and {r["flow_name"] for r in alpha} == {"alpha"}
    failed = blocks_json("runs", "ls", "--state", "failed")
    assert {r["id"] for r in failed if r["kind"] == "flow"} == {ids["alpha-failed"]}
    assert {r["state"] for r in failed} == {"Failed"} and len(failed) == 2
    flows = blocks_json("runs", "ls", "--kind", "flow")
    assert {r["id"] for r in flows} == set(ids.values())
    newest = blocks_json("runs", "ls", "--limit", "2")
    assert len(newest) == 2 and newest[0]["id"] == ids["beta"]
    assert newest[1]["name"].startswith("explode-")
    steps = blocks_json("runs", "ls", "--flow", "alpha", "--state", "Completed", "--kind", "task")
    assert sorted(r["parameters"]["i"] for r in steps) == [1, 2]
    table = blocks("runs", "ls", "--flow", "beta")
    assert table.returncode == 0 and f"beta-{ids['beta'][:8]}" in table.stdout
    assert "Completed" in table.stdout and "alpha" not in table.stdout
    bad = blocks("runs", "ls", "--state", "bogus")
    assert bad.returncode == 1 and "Unknown state 'bogus'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_runs_ls_empty():
    """With no runs yet, ls says so."""
    done = blocks("runs", "ls")
    assert done.returncode == 0 and "No runs recorded yet" in done.stdout
    assert blocks_json("runs", "ls") == []


def test_runs_show_by_prefix_and_unknown_ids():
    """`blocks runs show PREFIX` shows the run; an unknown id is exit 1 and one line."""
    ids = make_runs()
    failed_id = ids["alpha-failed"]
    shown = blocks("runs", "show", failed_id[:8])
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert failed_id in out and f"alpha-{failed_id[:8]}" in out
    assert "ValueError: alpha broke" in out and "Traceback" in out
    assert "Pending" in out and "Running" in out and "Failed" in out
    assert "explode-" in out  # the child runs table
    as_json = blocks_json("runs", "show", failed_id.upper()[:12])
    assert as_json["id"] == failed_id and as_json["state"] == "Failed"
    assert [s["name"] for s in as_json["states"]] == ["Pending", "Running", "Failed"]
    assert [c["fn_name"] for c in as_json["children"]] == ["explode"]
    for args, text in ((("deadbeef",), "No run with id 'deadbeef'"),
                       (("",), "matches several runs")):
        missing = blocks("runs", "show", *args)
        assert missing.returncode == 1 and text in missing.stderr
        assert len(missing.stderr.strip().splitlines()) == 1
        assert "Traceback" not in missing.stderr and missing.stdout == ""


# -- nested flows -------------------------------------------------------------------------------

def test_nested_flow_parent_ids():
    """A flow called in a flow is a child flow run: its parent_id is the parent flow run."""
    ids = {}

    @task
    def leaf():
        ids["leaf"] = current_run_id()

    @flow(name="child-flow")
    def child():
        ids["child"] = current_run_id()
        leaf()

    @flow
    def parent():
        ids["parent"] = current_run_id()
        child()

    parent()
    child_run, leaf_run = get_run(ids["child"]), get_run(ids["leaf"])
    assert child_run["kind"] == "flow" and child_run["parent_id"] == ids["parent"]
    assert child_run["flow_name"] == "child-flow" and child_run["name"].startswith("child-flow-")
    assert leaf_run["parent_id"] == ids["child"] and leaf_run["flow_name"] == "child-flow"
    assert [c["id"] for c in get_run(ids["parent"])["children"]] == [ids["child"]]
    shown = blocks("runs", "show", ids["parent"])
    assert child_run["name"] in shown.stdout


# -- log_prints ---------------------------------------------------------------------------------

def test_log_prints_routes_print_to_the_run_logger(caplog, capsys):
    """print() in a log_prints run goes to core_blocks.runs with the run's id and name."""
    caplog.set_level(logging.INFO, logger="core_blocks.runs")

    @task
    def inner(x):
        print("inside task", x)
        print("to stderr", file=sys.stderr)
        return current_run_id()

    @flow(log_prints=True)
    def chatty():
        print("hello", "world", sep="-")
        first = inner(1)
        second = inner.submit(2).result()
        return current_run_id(), first, second

    flow_id, first, second = chatty()
    records = [r for r in caplog.records if hasattr(r, "run_id")]
    by_text = {r.getMessage().split(" | ", 1)[1]: r for r in records}
    assert set(by_text) == {"hello-world", "inside task 1", "inside task 2"}
    hello = by_text["hello-world"]
    assert hello.name == "core_blocks.runs" and hello.levelno == logging.INFO
    assert hello.run_id == flow_id and hello.run_name == f"chatty-{flow_id[:8]}"
    assert hello.getMessage() == f"chatty-{flow_id[:8]} | hello-world"
    assert by_text["inside task 1"].run_id == first
    assert by_text["inside task 2"].run_name == f"inner-{second[:8]}"
    captured = capsys.readouterr()
    assert "hello-world" not in captured.out and "inside task" not in captured.out
    assert "to stderr" in captured.err


def test_without_log_prints_print_goes_to_stdout(caplog, capsys):
    """Without log_prints (or with log_prints=False on a task) print writes to stdout."""
    caplog.set_level(logging.INFO, logger="core_blocks.runs")

    @task(log_prints=False)
    def muted():
        print("task output")

    @flow
    def quiet():
        print("plain output")

    @flow(log_prints=True)
    def loud():
        muted()

    quiet()
    loud()
    print("outside any run")
    out = capsys.readouterr().out
    assert "plain output" in out and "task output" in out and "outside any run" in out
    assert not [r for r in caplog.records if hasattr(r, "run_id")]


# -- notify -------------------------------------------------------------------------------------

def test_notify_sends_the_outcome_to_a_webhook(http_receiver):
    """notify("webhook/name") hooks send flow name, state, duration and error."""
    Webhook(url=f"{http_receiver.url}/hook").save("alerts")
    custom = notify("webhook/alerts", template="{flow_name}|{state}|{duration:.3f}|{error}")

    @flow(on_completion=custom, on_failure=notify("webhook/alerts"))
    def nightly(fail: bool):
        time.sleep(0.05)
        if fail:
            raise ValueError("disk full")
        return current_run_id()

    nightly(False)
    with pytest.raises(ValueError, match="disk full"):
        nightly(True)
    assert len(http_receiver.requests) == 2
    done, failed = (r["json"] for r in http_receiver.requests)
    name, state, duration, error = done["body"].split("|")
    assert (name, state, error) == ("nightly", "Completed", "")
    assert 0.05 <= float(duration) < 1
    assert done["subject"] == "Flow 'nightly': Completed"
    assert failed["subject"] == "Flow 'nightly': Failed"
    body = failed["body"]
    assert body.startswith("Flow 'nightly' run nightly-") and "finished in state Failed" in body
    assert re.search(r" after \d+\.\d s\. Error: ValueError: disk full$", body), body


class RunCard(NotificationBlock):
    """A notifier that lays out runs itself (what SlackWebhook does with Block Kit)."""

    sent: list = Field(default_factory=list, description="What it was asked to send")

    def notify(self, body, subject=None):
        self.sent.append(("notify", body, subject))

    def notify_run(self, run):
        self.sent.append(("notify_run", run))


def test_notify_hands_a_run_summary_to_notify_run(http_receiver):
    """A notifier overriding notify_run gets the run's fields and the filled templates;
    one that does not (Webhook) gets notify(body, subject), as tested above."""
    card = RunCard()

    @flow(name="load-orders", on_failure=notify(card, template="{flow_name} broke"))
    def load_orders():
        raise ValueError("3 rows rejected")

    with pytest.raises(ValueError):
        load_orders()

    [(method, run)] = card.sent
    assert method == "notify_run"
    assert (run.kind, run.name, run.flow_name, run.state) == ("Flow", "load-orders",
                                                              "load-orders", "Failed")
    assert run.error == "ValueError: 3 rows rejected"
    assert run.body == "load-orders broke"
    assert run.subject == "Flow 'load-orders': Failed"
    assert run.run_name.startswith("load-orders-") and len(run.run_id) == 32
    assert 0 <= run.duration < 1


def test_notify_run_defaults_to_notify_with_the_filled_templates():
    class Plain(RunCard):
        notify_run = NotificationBlock.notify_run

    plain = Plain()

    @flow(name="ok-flow", on_completion=notify(plain, template="{state}", subject="{name}"))
    def ok_flow():
        return 1

    ok_flow()
    assert plain.sent == [("notify", "Completed", "ok-flow")]


@pytest.mark.parametrize("template", ["{nope}", "{0}", "{duration:d}", "{name.nope}",
                                      "{duration[0]}"])
def test_notify_bad_template_fails_at_once(template):
    """A template that cannot be filled is a ValueError when notify() is called."""
    with pytest.raises(ValueError, match="notify\\(\\) template .* is not valid"):
        notify("webhook/alerts", template=template)


def test_notify_bad_subject_fails_at_once():
    """The subject template is checked too."""
    with pytest.raises(ValueError, match="subject"):
        notify("webhook/alerts", subject="{unknown}")


# -- PostgreSQL as well -------------------------------------------------------------------------

def test_history_on_any_store(any_store):
    """A flow with called, submitted and mapped tasks is read back from SQLite and PostgreSQL."""
    @task
    def double(x):
        return 2 * x

    @task
    def fail():
        raise LookupError("no such row")

    @flow
    def etl(n: int):
        first = double(n)
        second = double.submit(first).result()
        mapped = [f.result() for f in double.map([1, 2])]
        fail(return_state=True)
        return current_run_id(), second, mapped

    flow_id, second, mapped = etl(5)
    assert (second, mapped) == (20, [2, 4])
    runs = history.list_runs(get_store(), flow="etl")
    assert len(runs) == 6 and runs[-1]["id"] == flow_id
    run = get_run(flow_id[:8])
    assert run["parameters"] == {"n": 5} and state_names(run) == ["Pending", "Running",
                                                                   "Completed"]
    children = run["children"]
    assert len(children) == 5 and all(c["parent_id"] == flow_id for c in children)
    assert sorted(c["parameters"].get("x", 0) for c in children) == [0, 1, 2, 5, 10]
    failed = [c for c in children if c["state"] == "Failed"]
    assert len(failed) == 1 and failed[0]["error_type"] == "LookupError"
    assert "no such row" in get_run(failed[0]["id"])["traceback"]
    listed = blocks_json("runs", "ls", "--flow", "etl", "--kind", "flow")
    assert [r["id"] for r in listed] == [flow_id]


def test_run_lookups_and_filters_name_the_problem_for_the_cli_and_the_page(any_store):
    from core_blocks.errors import RunFilterError, RunNotFound

    @flow
    def lookup_flow():
        return 1

    lookup_flow()
    run = history.list_runs(get_store(), limit=1)[0]

    assert history.find_run(get_store(), run["name"])["id"] == run["id"]
    with pytest.raises(RunNotFound, match="No run with id 'deadbeef'. List runs with"):
        history.find_run(get_store(), "deadbeef")
    assert history.check_run_filters("crashed", "") == ("Crashed", None)
    with pytest.raises(RunFilterError, match="Unknown state 'bogus'; use one of: Pending, "):
        history.check_run_filters("bogus", None)
    with pytest.raises(RunFilterError, match="Unknown run kind 'job'; use flow or task."):
        history.check_run_filters(None, "job")
