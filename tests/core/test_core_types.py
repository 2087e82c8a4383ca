"""The core's block types: Secret, String, JSON, LocalFileSystem and Webhook."""

from __future__ import annotations

import asyncio
import io
import json
import os

import pytest

from core_blocks import JSON, Block, LocalFileSystem, Secret, String, Webhook
from core_blocks.errors import (
    BlockNotFound,
    BlockValidationError,
    NotificationError,
    StoragePathError,
)
from core_blocks.testing.contracts import NotifierContract, ObjectStorageContract
from tests.http_receiver import closed_port_url

# -- Secret, String, JSON -------------------------------------------------------------------


def test_secret_get_round_trips_and_stays_out_of_the_store(block_home, canary):
    secret = Secret(value=canary)
    assert secret.get() == canary
    assert canary not in repr(secret) and canary not in str(secret)

    secret.save("db-password")
    loaded = Secret.load("db-password")

    assert loaded.get() == canary
    assert type(loaded) is Secret
    for path in block_home.glob("blocks.db*"):
        assert canary.encode() not in path.read_bytes(), path


def test_string_round_trips():
    String(value="eu-west-1").save("region")

    loaded = String.load("region")
    assert loaded.value == "eu-west-1"
    assert Block.load("string/region") == loaded


@pytest.mark.parametrize("value", [
    {"tables": ["orders", "customers"], "limits": {"rows": 1000, "ratio": 0.5}, "on": True,
     "none": None, "text": 'quote " and é'},
    ["a", 1, 2.5, None, {"nested": [True, False]}],
    42,
    3.25,
    -7,
], ids=["dict", "list", "int", "float", "negative"])
def test_json_round_trips(value):
    JSON(value=value).save("settings")

    loaded = JSON.load("settings")
    assert loaded.value == value
    assert type(loaded.value) is type(value)


def test_json_keeps_integers_beyond_doubles_exactly():
    JSON(value={"channel_id": 2**64 + 1, "ids": [-(2**53) - 1]}).save("ids")

    assert JSON.load("ids").value == {"channel_id": 2**64 + 1, "ids": [-(2**53) - 1]}


@pytest.mark.parametrize("value, found", [
    (float("nan"), "NaN"),
    ({"rates": [1.5, float("inf")]}, 'Infinity at ["rates"][1]'),
    ([{"floor": -float("inf")}], '-Infinity at [0]["floor"]'),
], ids=["nan", "nested-infinity", "negative-infinity"])
def test_json_refuses_numbers_json_cannot_hold(value, found):
    with pytest.raises(BlockValidationError) as refused:
        JSON(value=value)

    assert str(refused.value) == (
        f"Invalid json block: field 'value': holds {found}, which JSON cannot store (it would "
        "be saved as null); write a finite number, or null.")
    assert JSON.list() == []


class FloatKnobs(Block):
    """Plain float fields, outside the json type."""

    ratio: float = 1.0
    rates: list[float] = []


class KnobPipeline(Block):
    """A block holding another inline."""

    tuning: FloatKnobs


@pytest.mark.parametrize("make, message", [
    (lambda: FloatKnobs(ratio=float("nan")), 'float-knobs/knobs: field ["ratio"] holds NaN'),
    (lambda: FloatKnobs(rates=[1.0, float("-inf")]),
     'float-knobs/knobs: field ["rates"][1] holds -Infinity'),
    (lambda: KnobPipeline(tuning=FloatKnobs(ratio=float("inf"))),
     'a nested float-knobs block: field ["ratio"] holds Infinity'),
], ids=["nan", "list-infinity", "nested-block"])
def test_save_refuses_numbers_json_cannot_hold_in_any_float_field(make, message):
    """NaN and infinities pass pydantic's float fields but no JSON document holds them: save
    refuses them in one line, and nothing is written."""
    with pytest.raises(BlockValidationError) as refused:
        make().save("knobs")

    assert str(refused.value) == (f"Cannot save {message}, which JSON cannot store; set a "
                                  "finite number (or None if the field allows it).")
    assert FloatKnobs.list() == [] and KnobPipeline.list() == []


# -- LocalFileSystem ----------------------------------------------------------------------


class TestLocalFileSystem(ObjectStorageContract):
    @pytest.fixture
    def storage(self, tmp_path):
        return LocalFileSystem(basepath=str(tmp_path / "storage"))


@pytest.fixture
def escaping_links(tmp_path):
    """A storage whose base holds symlinks to a folder and a file outside it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.txt").write_text("not yours")
    base = tmp_path / "storage"
    base.mkdir()
    (base / "linked-dir").symlink_to(outside, target_is_directory=True)
    (base / "linked-file.txt").symlink_to(outside / "private.txt")
    return LocalFileSystem(basepath=str(base)), outside


@pytest.mark.parametrize("path", ["linked-dir/private.txt", "linked-file.txt"])
def test_a_symlink_escaping_the_base_is_refused(escaping_links, path, tmp_path):
    storage, outside = escaping_links

    with pytest.raises(StoragePathError, match="escapes the local-file-system base"):
        storage.read_path(path)
    with pytest.raises(StoragePathError, match="escapes"):
        storage.write_path(path, b"overwritten")
    with pytest.raises(StoragePathError, match="escapes"):
        storage.download_object_to_path(path, tmp_path / "copy.txt")

    assert (outside / "private.txt").read_text() == "not yours"
    assert sorted(p.name for p in outside.iterdir()) == ["private.txt"]


def test_writing_into_a_symlinked_folder_outside_is_refused(escaping_links):
    storage, outside = escaping_links

    with pytest.raises(StoragePathError, match="escapes"):
        storage.write_path("linked-dir/new.txt", b"planted")
    assert not (outside / "new.txt").exists()


@pytest.mark.parametrize("write", [
    lambda storage: storage.write_path("report.txt", b"new content"),
    lambda storage: storage.upload_from_file_object(io.BytesIO(b"new content"), "report.txt"),
], ids=["write_path", "upload_from_file_object"])
def test_a_symlink_planted_at_the_old_temp_name_is_not_followed(tmp_path, write):
    """The temp name was `.<name>.<pid>.tmp`: a link planted there sent the write outside."""
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours")
    base = tmp_path / "storage"
    base.mkdir()
    (base / f".report.txt.{os.getpid()}.tmp").symlink_to(victim)
    storage = LocalFileSystem(basepath=str(base))

    write(storage)

    assert victim.read_text() == "not yours"
    assert (base / "report.txt").read_bytes() == b"new content"
    assert not (base / "report.txt").is_symlink()
    assert sorted(p.name for p in base.iterdir() if not p.is_symlink()) == ["report.txt"]


def test_a_folder_swapped_for_a_symlink_after_the_path_check_is_refused(escaping_links):
    """The write reaches its folder from basepath without following links, so a folder
    replaced by a link between the path check and the write cannot lead outside."""
    storage, outside = escaping_links

    with pytest.raises(StoragePathError, match="escapes"):
        storage._open_folder("linked-dir/new.txt", storage._base() / "linked-dir")
    assert sorted(p.name for p in outside.iterdir()) == ["private.txt"]


def test_a_failed_download_leaves_no_file_behind(escaping_links, tmp_path):
    storage, _ = escaping_links
    storage.write_path("fine.txt", b"fine")
    destination = tmp_path / "downloaded"

    with pytest.raises(BlockNotFound):
        storage.download_object_to_path("missing.txt", destination / "missing.txt")
    with pytest.raises(StoragePathError):  # its links lead outside the base
        storage.download_folder_to_path("", destination)

    # fine.txt came down whole before the escaping link failed; no empty or temp file
    assert {p.relative_to(destination).as_posix(): p.read_bytes()
            for p in destination.rglob("*") if p.is_file()} == {"fine.txt": b"fine"}


def test_local_file_system_round_trips(tmp_path):
    LocalFileSystem(basepath=str(tmp_path / "data")).save("lake")

    loaded = LocalFileSystem.load("lake")
    loaded.write_path("x/y.txt", b"saved")
    assert loaded.basepath == str(tmp_path / "data")
    assert (tmp_path / "data" / "x" / "y.txt").read_bytes() == b"saved"


# -- Webhook ------------------------------------------------------------------------------


class TestWebhook(NotifierContract):
    @pytest.fixture
    def received(self, http_receiver):
        return http_receiver.requests

    @pytest.fixture
    def notifier(self, http_receiver):
        return Webhook(url=http_receiver.url + "/hook")

    @pytest.fixture
    def unreachable_notifier(self):
        return Webhook(url=closed_port_url())


def test_webhook_sends_its_method_and_secret_headers(http_receiver, canary):
    hook = Webhook(url=http_receiver.url + "/alerts/T0", method="PUT",
                   headers={"Authorization": f"Bearer {canary}", "X-Team": "data"})
    hook.save("ops")
    assert canary not in repr(hook)

    Webhook.load("ops").notify("disk full", subject="db-1")

    [request] = http_receiver.requests
    assert request["method"] == "PUT"
    assert request["path"] == "/alerts/T0"
    assert request["headers"]["authorization"] == f"Bearer {canary}"
    assert request["headers"]["x-team"] == "data"
    assert request["headers"]["content-type"] == "application/json"
    assert request["json"] == {"subject": "db-1", "body": "disk full"}


def test_webhook_body_template_renders_valid_json_from_any_text(http_receiver):
    hook = Webhook(url=http_receiver.url,
                   body_template='{"text": "*$subject*: $body", "channel": "#alerts", "n": 1}')
    body = 'a "quoted" word,\na new line, a tab\t, a backslash \\ and {"json": 1}'
    subject = 'load "orders"\nfailed'

    hook.notify(body, subject=subject)

    [request] = http_receiver.requests
    assert json.loads(request["body"]) == request["json"]
    assert request["json"] == {"text": f"*{subject}*: {body}", "channel": "#alerts", "n": 1}


def test_webhook_without_subject_renders_an_empty_one(http_receiver):
    Webhook(url=http_receiver.url).notify("only a body")

    assert http_receiver.requests[0]["json"] == {"subject": "", "body": "only a body"}


@pytest.mark.parametrize("template", [
    '{"text": $body}',
    '{"text": "$body"',
    "text=$body",
])
def test_a_body_template_that_is_not_json_is_refused(template):
    with pytest.raises(BlockValidationError) as caught:
        Webhook(url="http://127.0.0.1:9/hook", body_template=template)

    assert caught.value.fields == ["body_template"]
    assert "'body_template'" in str(caught.value)
    assert "not JSON" in str(caught.value)


def test_an_http_error_names_the_block_and_hides_the_url(http_receiver, canary):
    http_receiver.status = 500
    url = f"{http_receiver.url}/hooks/{canary}"
    Webhook(url=url).save("pager")

    with pytest.raises(NotificationError) as caught:
        Webhook.load("pager").notify("disk full")

    message = str(caught.value)
    assert "'pager'" in message
    assert "HTTP 500" in message
    assert canary not in message and http_receiver.url not in message
    assert len(http_receiver.requests) == 1


def test_anotify_works_under_asyncio_run(http_receiver):
    hook = Webhook(url=http_receiver.url)

    asyncio.run(hook.anotify("from async code", subject="async"))

    assert http_receiver.requests[0]["json"] == {"subject": "async", "body": "from async code"}


def test_notify_async_is_anotify_under_prefects_name(http_receiver):
    hook = Webhook(url=http_receiver.url)

    asyncio.run(hook.notify_async("from async code", subject="async"))

    assert [r["json"] for r in http_receiver.requests] == [
        {"subject": "async", "body": "from async code"}]


def test_raise_on_failure_keeps_prefect_style_code_working(http_receiver):
    hook = Webhook(url=http_receiver.url)
    with hook.raise_on_failure():
        hook.notify("delivered")
    assert http_receiver.requests[0]["json"]["body"] == "delivered"

    http_receiver.status = 500
    with pytest.raises(NotificationError, match="HTTP 500"), hook.raise_on_failure():
        hook.notify("refused inside")
    with pytest.raises(NotificationError, match="HTTP 500"):  # ours raises without it too
        hook.notify("refused outside")
