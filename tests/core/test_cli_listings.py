"""Listings that stay fast with many rows: `blocks ls` and `blocks runs ls` page (--limit,
--offset), filter by a name glob in the store's query, print tab-separated lines when piped and
aligned columns on a terminal, and say how many rows are left."""

from __future__ import annotations

import json
import os
import subprocess

import pexpect

from core_blocks import Secret, String, flow, task
from core_blocks.store import get_store
from tests.helpers import BLOCKS


def blocks(*args: str) -> subprocess.CompletedProcess:
    """The `blocks` script with stdout a pipe (not a terminal)."""
    return subprocess.run([BLOCKS, *args], capture_output=True, text=True, timeout=120)


def lines(result: subprocess.CompletedProcess) -> list[list[str]]:
    assert result.returncode == 0, result.stderr
    return [line.split("\t") for line in result.stdout.splitlines()]


def save_many(count: int) -> None:
    for i in range(count):
        String(value=f"v{i}").save(f"item-{i:03d}")


def test_piped_ls_is_one_tab_separated_line_per_block(block_home):
    Secret(value="p").save("prod-db")
    String(value="eu").save("region")

    rows = lines(blocks("ls"))

    store = get_store()
    assert rows == [[f"{slug}/{name}", doc.id, doc.updated[:19].replace("T", " "), "1"]
                    for slug, name in (("secret", "prod-db"), ("string", "region"))
                    for doc in [store.get_document(slug, name)]]


def test_ls_shows_a_page_of_100_and_says_how_many_are_left(block_home):
    save_many(105)

    first = blocks("ls")
    assert [r[0] for r in lines(first)] == [f"string/item-{i:03d}" for i in range(100)]
    assert first.stderr == ("5 more blocks: use --limit/--offset (next page: --offset 100).\n")
    rest = blocks("ls", "--offset", "100")
    assert [r[0] for r in lines(rest)] == [f"string/item-{i:03d}" for i in range(100, 105)]
    assert rest.stderr == ""
    page = blocks("ls", "--limit", "3", "--offset", "10")
    assert [r[0] for r in lines(page)] == [f"string/item-{i:03d}" for i in (10, 11, 12)]
    assert page.stderr.startswith("92 more blocks")


def test_ls_json_lists_everything_unless_paged(block_home):
    save_many(105)

    everything = json.loads(blocks("ls", "--json").stdout)
    assert len(everything) == 105
    assert set(everything[0]) == {"type", "name", "id", "updated", "version", "anonymous"}
    paged = json.loads(blocks("ls", "--json", "--limit", "2", "--offset", "1").stdout)
    assert [r["name"] for r in paged] == ["item-001", "item-002"]


def test_ls_name_filters_by_glob(block_home):
    for name in ("prod-db", "prod-api", "dev-db"):
        Secret(value="x").save(name)
    String(value="x").save("prod-region")

    assert [r[0] for r in lines(blocks("ls", "--name", "prod-*"))] == [
        "secret/prod-api", "secret/prod-db", "string/prod-region"]
    assert [r[0] for r in lines(blocks("ls", "--name", "*-db", "--type", "secret"))] == [
        "secret/dev-db", "secret/prod-db"]
    assert [r[0] for r in lines(blocks("ls", "--name", "PROD-?B"))] == ["secret/prod-db"]
    none = blocks("ls", "--name", "stage-*")
    assert none.stdout.startswith("No blocks named 'stage-*' saved.")


def test_store_pages_and_counts_in_the_query(any_store):
    save_many(12)
    Secret(value="x").save("item-x")
    store = get_store()

    page = store.list_documents("string", name_pattern="item-01?", limit=2, offset=1)
    assert [d.name for d in page] == ["item-011"]
    assert [d.name for d in store.list_documents(limit=3)] == [
        "item-x", "item-000", "item-001"]  # secret sorts before string
    assert [d.name for d in store.list_documents(offset=12)] == ["item-011"]
    assert store.count_listed() == 13
    assert store.count_listed("string", name_pattern="*0?") == 10
    assert store.count_listed(name_pattern="item_x") == 0  # `_` is literal, not any character


def test_ls_on_a_terminal_aligns_columns_under_a_header(block_home):
    Secret(value="p").save("prod-db")
    String(value="eu").save("a-much-longer-name")

    child = pexpect.spawn(BLOCKS, ["ls", "--limit", "1"], env=dict(os.environ),
                          encoding="utf-8", timeout=60)
    child.expect(pexpect.EOF)
    shown = [line for line in child.before.replace("\x1b[0m", "").replace("\x1b[1m", "")
             .replace("\x1b[2m", "").splitlines()]
    header, row, more = shown
    assert header.split() == ["block", "id", "updated", "version"]
    assert row.startswith("secret/prod-db  ")
    assert row.index(get_store().get_document("secret", "prod-db").id) == header.index("id")
    assert more == "1 more blocks: use --limit/--offset (next page: --offset 1)."


@task
def step(i: int) -> int:
    return i


@flow
def numbered() -> None:
    for i in range(4):
        step(i)


def test_runs_ls_pages_filters_by_name_and_counts(block_home):
    numbered()

    everything = lines(blocks("runs", "ls"))
    assert len(everything) == 5
    page = blocks("runs", "ls", "--limit", "2", "--offset", "1")
    assert [r[0] for r in lines(page)] == [r[0] for r in everything[1:3]]
    assert page.stderr.startswith("2 more runs: use --limit/--offset (next page: --offset 3).")
    steps = lines(blocks("runs", "ls", "--name", "step-*"))
    assert len(steps) == 4 and {r[1] for r in steps} == {"task"}
    assert [r["kind"] for r in json.loads(blocks("runs", "ls", "--json", "--name",
                                                 "numbered-*").stdout)] == ["flow"]
    assert blocks("runs", "ls", "--name", "nothing-*").stdout == "No runs match.\n"
