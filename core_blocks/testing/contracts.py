"""Behaviour every implementation of an interface must show, written once.

Subclass a contract in your tests and supply its fixture:

    class TestMyStorage(ObjectStorageContract):
        @pytest.fixture
        def storage(self, tmp_path):
            return LocalFileSystem(basepath=str(tmp_path))
"""

from __future__ import annotations

import io

import pytest

from core_blocks.errors import CoreBlocksError


class ObjectStorageContract:
    """Tests for an ObjectStorageBlock; needs a `storage` fixture (an empty storage)."""

    def test_write_then_read_path(self, storage):
        assert storage.write_path("a/b.txt", b"hello") == "a/b.txt"
        assert storage.read_path("a/b.txt") == b"hello"

    def test_list_objects_keeps_relative_paths(self, storage):
        storage.write_path("x/1.txt", b"1")
        storage.write_path("x/y/2.txt", b"2")
        storage.write_path("z.txt", b"3")
        assert storage.list_objects("x") == ["x/1.txt", "x/y/2.txt"]
        assert storage.list_objects() == ["x/1.txt", "x/y/2.txt", "z.txt"]

    def test_file_round_trip(self, storage, tmp_path):
        source = tmp_path / "in.bin"
        source.write_bytes(bytes(range(256)) * 1000)
        path = storage.upload_from_path(source, "data/in.bin")
        out = storage.download_object_to_path(path, tmp_path / "out" / "in.bin")
        assert out.read_bytes() == source.read_bytes()

    def test_file_object_round_trip(self, storage):
        storage.upload_from_file_object(io.BytesIO(b"streamed"), "s/obj")
        sink = io.BytesIO()
        storage.download_object_to_file_object("s/obj", sink)
        assert sink.getvalue() == b"streamed"

    def test_folder_round_trip(self, storage, tmp_path):
        src = tmp_path / "src"
        (src / "sub").mkdir(parents=True)
        (src / "a.txt").write_text("a")
        (src / "sub" / "b.txt").write_text("b")
        storage.upload_from_folder(src, "backup")
        assert storage.list_objects("backup") == ["backup/a.txt", "backup/sub/b.txt"]
        out = storage.download_folder_to_path("backup", tmp_path / "dst")
        assert (out / "a.txt").read_text() == "a"
        assert (out / "sub" / "b.txt").read_text() == "b"

    @pytest.mark.parametrize("bad", ["../escape.txt", "a/../../escape.txt"])
    def test_paths_outside_the_base_are_refused(self, storage, bad):
        with pytest.raises(CoreBlocksError, match="escape"):
            storage.write_path(bad, b"x")

    def test_missing_object_is_a_clear_error(self, storage):
        with pytest.raises(CoreBlocksError, match="no-such-object"):
            storage.read_path("no-such-object")


class SecretBackendContract:
    """Tests for a writable SecretBackend; needs a `backend` fixture."""

    def test_write_read_delete(self, backend):
        backend.write("t/k1", {"value": "s3cret", "extra": {"a": "b"}}, "secret/k1")
        assert backend.read("t/k1", "secret/k1") == {"value": "s3cret", "extra": {"a": "b"}}
        backend.delete("t/k1")
        assert backend.read("t/k1", "secret/k1") is None

    def test_missing_key_reads_none(self, backend):
        assert backend.read("t/never-written", "secret/never") is None

    def test_delete_of_a_missing_key_is_fine(self, backend):
        backend.delete("t/never-written")
        assert backend.read("t/never-written", "secret/never") is None

    def test_keys_are_independent(self, backend):
        backend.write("t/a", {"value": "1"}, "secret/a")
        backend.write("t/b", {"value": "2"}, "secret/b")
        backend.delete("t/a")
        assert backend.read("t/b", "secret/b") == {"value": "2"}

    def test_read_values_gives_each_kind_back(self, backend):
        backend.write("t/kinds", {"s": "x", "b": "AP8=", "d": {"a": "b"}}, "secret/kinds")
        kinds = {"s": "str", "b": "bytes", "d": "dict", "unsaved": "str"}
        assert backend.read_values("t/kinds", "secret/kinds", kinds) == {
            "s": "x", "b": b"\x00\xff", "d": {"a": "b"}}
        backend.delete("t/kinds")
        assert backend.read_values("t/kinds", "secret/kinds", kinds) is None


class NotifierContract:
    """Tests for a NotificationBlock; needs `notifier` and `received` fixtures.

    `received` is a list the receiver appends each request to, as a dict with at least
    "json" (the decoded body); `unreachable_notifier` is the same block aimed at a closed port.
    """

    def test_notify_delivers_body_and_subject(self, notifier, received):
        notifier.notify("disk almost full", subject="db-1")
        assert len(received) == 1
        assert "disk almost full" in str(received[0]["json"])
        assert "db-1" in str(received[0]["json"])

    def test_text_needing_escapes_arrives_intact(self, notifier, received):
        text = 'quote " backslash \\ newline \n unicode é'
        notifier.notify(text)
        assert text in str(received[0]["json"]) or text in _strings(received[0]["json"])

    def test_notify_async_delivers_like_notify(self, notifier, received):
        import asyncio

        asyncio.run(notifier.notify_async("disk almost full", subject="db-1"))
        assert len(received) == 1
        assert "disk almost full" in str(received[0]["json"])

    def test_raise_on_failure_wraps_notify(self, notifier, received, unreachable_notifier):
        with notifier.raise_on_failure():
            notifier.notify("inside raise_on_failure")
        assert len(received) == 1
        with pytest.raises(CoreBlocksError, match="could not be reached"), \
                unreachable_notifier.raise_on_failure():
            unreachable_notifier.notify("x")

    def test_unreachable_receiver_is_a_clear_error(self, unreachable_notifier):
        with pytest.raises(CoreBlocksError, match="could not be reached"):
            unreachable_notifier.notify("x")

    def test_errors_name_the_block_and_chain_nothing(self, unreachable_notifier, block_home):
        # A chained httpx exception would carry text that may quote the secret URL.
        unreachable_notifier.save("contract-check", overwrite=True)
        with pytest.raises(CoreBlocksError) as caught:
            type(unreachable_notifier).load("contract-check").notify("x")
        assert "'contract-check'" in str(caught.value)
        assert caught.value.__cause__ is None and caught.value.__context__ is None

    def test_saved_notifier_loads_and_notifies(self, notifier, received, block_home):
        notifier.save("alerts", overwrite=True)
        type(notifier).load("alerts").notify("from a saved block")
        assert "from a saved block" in str(received[-1]["json"]) or \
            "from a saved block" in _strings(received[-1]["json"])


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []
