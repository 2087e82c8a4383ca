"""S3Bucket transfers: multipart, streaming memory, concurrent folders, `../` keys, progress."""

from __future__ import annotations

import io
import logging
import os
import re
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pexpect
import pytest

from core_blocks.errors import StoragePathError
from prefect_aws import (
    AwsClientParameters,
    AwsCredentials,
    AwsEndpointError,
    S3Bucket,
    S3BucketNotFound,
)
from prefect_aws.transfers import local_files, progress_enabled
from tests.aws.flaky_endpoint import FlakyEndpoint

MiB = 2**20


def _random_file(path: Path, mib: int) -> Path:
    with path.open("wb") as fh:
        for _ in range(mib):
            fh.write(os.urandom(MiB))
    return path


def _etag(bucket: S3Bucket, path: str) -> str:
    head = bucket.credentials.get_s3_client().head_object(Bucket=bucket.bucket_name,
                                                           Key=bucket._key(path))
    return head["ETag"].strip('"')


def _small_parts(bucket: S3Bucket, **more) -> S3Bucket:
    return bucket.model_copy(update={"multipart_threshold": 5 * MiB,
                                     "multipart_chunksize": 5 * MiB, **more})


# -- multipart --------------------------------------------------------------------------------


def test_file_above_the_threshold_goes_up_in_parts(server_bucket, tmp_path):
    bucket = _small_parts(server_bucket)
    source = _random_file(tmp_path / "big.bin", 12)

    bucket.upload_from_path(source, "big.bin")

    assert _etag(bucket, "big.bin").endswith("-3")  # 5 + 5 + 2 MiB
    out = bucket.download_object_to_path("big.bin", tmp_path / "back.bin")
    assert out.read_bytes() == source.read_bytes()


def test_file_below_the_threshold_is_one_put(server_bucket, tmp_path):
    source = _random_file(tmp_path / "small.bin", 4)

    server_bucket.upload_from_path(source)

    assert "-" not in _etag(server_bucket, "small.bin")


def test_write_path_and_file_objects_use_parts_too(s3_bucket):
    bucket = _small_parts(s3_bucket)
    content = os.urandom(11 * MiB)

    bucket.write_path("w.bin", content)
    bucket.upload_from_file_object(io.BytesIO(content), "f.bin")

    assert _etag(bucket, "w.bin").endswith("-3") and _etag(bucket, "f.bin").endswith("-3")
    assert bucket.read_path("w.bin") == content
    assert bucket.download_object_to_file_object("f.bin", io.BytesIO()).getvalue() == content


def test_large_copy_is_a_multipart_copy(s3_bucket):
    bucket = _small_parts(s3_bucket)
    content = os.urandom(11 * MiB)
    bucket.write_path("src.bin", content)

    bucket.copy_object("src.bin", "dst.bin")

    assert _etag(bucket, "dst.bin").endswith("-3")
    assert bucket.read_path("dst.bin") == content


def test_transfer_config_comes_from_the_fields():
    config = S3Bucket(bucket_name="raw", multipart_threshold=64 * MiB,
                      multipart_chunksize=32 * MiB, max_concurrency=4).transfer_config

    assert (config.multipart_threshold, config.multipart_chunksize, config.max_concurrency) == \
        (64 * MiB, 32 * MiB, 4)
    assert config.max_in_memory_upload_chunks == 4


# -- streaming: memory stays flat ---------------------------------------------------------------


@pytest.fixture
def file_64mib(tmp_path):
    return _random_file(tmp_path / "64.bin", 64)


def _peak_mib(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / MiB
    finally:
        tracemalloc.stop()


def test_uploads_and_downloads_stream(server_bucket, file_64mib, tmp_path):
    """Against the server in its own process, so only this process's memory is counted.

    A file object upload holds up to max_concurrency parts; a path upload reads each part
    from disk as it sends it; downloads write as they receive.
    """
    bucket = _small_parts(server_bucket, max_concurrency=3)

    peaks = {
        "upload_from_path": _peak_mib(lambda: bucket.upload_from_path(file_64mib, "a.bin")),
        "download_object_to_path": _peak_mib(
            lambda: bucket.download_object_to_path("a.bin", tmp_path / "a.bin")),
        "upload_from_file_object": _peak_mib(
            lambda: bucket.upload_from_file_object(file_64mib.open("rb"), "b.bin")),
        "download_object_to_file_object": _peak_mib(
            lambda: bucket.download_object_to_file_object("b.bin", (tmp_path / "b").open("wb"))),
    }

    assert all(peak < 32 for peak in peaks.values()), peaks  # the file is 64 MiB
    assert (tmp_path / "a.bin").read_bytes() == file_64mib.read_bytes()


# -- folders -------------------------------------------------------------------------------------


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_folder_round_trip_keeps_relative_paths(server_bucket, tmp_path):
    source = tmp_path / "src"
    for relative in ("a.csv", "deep/er/b.csv", "deep/c.bin", "space name/d e.txt"):
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_bytes(os.urandom(1000) + relative.encode())
    bucket = server_bucket.model_copy(update={"bucket_folder": "team"})

    assert bucket.upload_from_folder(source, "backup/2026") == "backup/2026"
    assert bucket.list_objects("backup") == ["backup/2026/a.csv", "backup/2026/deep/c.bin",
                                             "backup/2026/deep/er/b.csv",
                                             "backup/2026/space name/d e.txt"]
    out = bucket.download_folder_to_path("backup/2026", tmp_path / "dst")

    assert _tree(out) == _tree(source)


def test_folder_upload_to_the_root(s3_bucket, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "x.txt").write_text("x")

    assert s3_bucket.upload_from_folder(tmp_path / "src") == ""
    assert s3_bucket.list_objects() == ["x.txt"]


def test_folder_transfers_run_concurrently(server_bucket, tmp_path, moto_server):
    source = tmp_path / "src"
    source.mkdir()
    for i in range(12):
        (source / f"{i}.txt").write_text(str(i))
    with FlakyEndpoint(moto_server, delay=0.1) as front:
        slow = server_bucket.model_copy(update={"credentials": AwsCredentials(
            aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1",
            aws_client_parameters=AwsClientParameters(endpoint_url=front.url))})
        slow.upload_from_folder(source, "up")
        uploads_at_once = front.max_in_flight
        front.max_in_flight = 0
        slow.download_folder_to_path("up", tmp_path / "down")
        downloads_at_once = front.max_in_flight

    assert uploads_at_once > 1 and downloads_at_once > 1
    assert _tree(tmp_path / "down") == _tree(source)


@pytest.mark.parametrize(("key", "landing"), [
    ("backup/../{name}", "{tmp}/dst/{name}"),  # dst/inner/../x.txt
    ("backup/ok/../../../{name}", "{tmp}/{name}"),  # dst/inner/ok/../../../x.txt
    ("backup/{tmp}/{name}", "{tmp}/{name}"),  # "backup//tmp/...": pathlib drops the folder
])
def test_keys_escaping_the_target_folder_are_refused(s3_bucket, tmp_path, key, landing):
    name = "escaped.txt"
    key = key.format(tmp=tmp_path, name=name)
    landing = Path(landing.format(tmp=tmp_path, name=name))
    client = s3_bucket.credentials.get_s3_client()
    client.put_object(Bucket="test-bucket", Key="backup/fine.txt", Body=b"fine")
    client.put_object(Bucket="test-bucket", Key=key, Body=b"evil")
    target = tmp_path / "dst" / "inner"
    assert (target / key.removeprefix("backup/")).resolve() == landing  # where it would go

    with pytest.raises(StoragePathError, match=f"{re.escape(repr(key))}: it would escape the "
                                               "target folder"):
        s3_bucket.download_folder_to_path("backup", target)

    assert not landing.exists()
    assert not target.exists()  # nothing at all was written, not even the folder


@pytest.mark.parametrize(("keys", "message"), [
    (["f/a.txt", "f/sub/.."], "'f/sub/..': it resolves to the target folder"),
    (["f/a.txt", "f/."], "'f/.': it resolves to the target folder"),
    (["f/a.txt", "f/x/../a.txt"], "keys 'f/a.txt' and 'f/x/../a.txt': both would be written to"),
    (["f/a.txt", "f/./a.txt"], "keys 'f/./a.txt' and 'f/a.txt': both would be written to"),
    (["f/a.txt", "f/d", "f/d/e.txt"], "key 'f/d': it would be a file at"),
])
def test_keys_that_clash_locally_are_refused_before_any_write(s3_bucket, tmp_path, keys,
                                                              message):
    client = s3_bucket.credentials.get_s3_client()
    for key in keys:
        client.put_object(Bucket="test-bucket", Key=key, Body=key.encode())
    target = tmp_path / "out"

    with pytest.raises(StoragePathError, match=re.escape(message)) as caught:
        s3_bucket.download_folder_to_path("f", target)

    assert "Nothing was downloaded" in str(caught.value)
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_folder_markers_are_skipped(s3_bucket, tmp_path):
    client = s3_bucket.credentials.get_s3_client()
    client.put_object(Bucket="test-bucket", Key="f/", Body=b"")
    client.put_object(Bucket="test-bucket", Key="f/a.txt", Body=b"a")

    out = s3_bucket.download_folder_to_path("f", tmp_path / "out")

    assert _tree(out) == {"a.txt": b"a"}


def test_local_files_do_not_follow_linked_folders(tmp_path, caplog):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("s")
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a")
    (src / "link").symlink_to(outside, target_is_directory=True)

    with caplog.at_level(logging.WARNING, logger="prefect_aws"):
        assert [relative for _, relative in local_files(src)] == ["a.txt"]

    assert f"Not uploading {str(src / 'link')!r}: links to folders" in caplog.text


def test_linked_files_outside_the_folder_are_skipped_with_a_warning(s3_bucket, tmp_path,
                                                                    caplog):
    (tmp_path / "outside.txt").write_text("OUTSIDE")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "leak.txt").symlink_to(tmp_path / "outside.txt")
    (src / "sub" / "up.txt").symlink_to(Path("..", "..", "outside.txt"))  # relative, outside
    (src / "alias.txt").symlink_to(src / "a.txt")  # inside the folder: uploaded
    (src / "sub" / "rel.txt").symlink_to(Path("..", "a.txt"))

    with caplog.at_level(logging.WARNING, logger="prefect_aws"):
        s3_bucket.upload_from_folder(src, "up")

    assert s3_bucket.list_objects("up") == ["up/a.txt", "up/alias.txt", "up/sub/rel.txt"]
    assert s3_bucket.read_path("up/alias.txt") == b"a"
    for link in (src / "leak.txt", src / "sub" / "up.txt"):
        assert f"Not uploading {str(link)!r}: it links to a file outside the folder" in caplog.text


def test_a_download_cut_off_every_time_is_named(server_bucket, moto_server, tmp_path):
    """download_file retries a cut-off body itself, then gives up with RetriesExceededError."""
    server_bucket.write_path("cut.bin", os.urandom(4096))
    with FlakyEndpoint(moto_server, failures=100, mode="drop-body") as front:
        bucket = server_bucket.model_copy(update={"credentials": AwsCredentials(
            aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1",
            aws_client_parameters=AwsClientParameters(endpoint_url=front.url))})

        with pytest.raises(AwsEndpointError) as caught:
            bucket.download_object_to_path("cut.bin", tmp_path / "cut.bin")

    assert front.dropped > 1 and caught.value.retryable
    assert str(caught.value).startswith(
        f"The connection to the AWS endpoint {front.url} broke off while transferring object "
        f"'cut.bin' in S3 bucket {server_bucket.bucket_name!r} (")
    assert list(tmp_path.iterdir()) == []  # no partial file left behind


def test_a_download_cut_off_once_is_finished(server_bucket, moto_server, tmp_path):
    content = os.urandom(4096)
    server_bucket.write_path("cut.bin", content)
    with FlakyEndpoint(moto_server, failures=1, mode="drop-body") as front:
        bucket = server_bucket.model_copy(update={"credentials": AwsCredentials(
            aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1",
            aws_client_parameters=AwsClientParameters(endpoint_url=front.url))})
        bucket.download_object_to_path("cut.bin", tmp_path / "cut.bin")

    assert front.dropped == 1 and (tmp_path / "cut.bin").read_bytes() == content


# -- progress -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("tty", "ci", "shown"), [
    (True, None, True), (True, "true", False), (True, "1", False), (True, "false", True),
    (False, None, False),
])
def test_progress_only_on_a_terminal_outside_ci(monkeypatch, tty, ci, shown):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty, raising=False)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)

    assert progress_enabled() is shown


_UPLOAD_SCRIPT = textwrap.dedent("""
    import sys
    from prefect_aws import AwsClientParameters, AwsCredentials, S3Bucket, S3BucketNotFound

    url, bucket, path = sys.argv[1:4]
    creds = AwsCredentials(aws_access_key_id="t", aws_secret_access_key="t",
                           region_name="us-east-1",
                           aws_client_parameters=AwsClientParameters(endpoint_url=url))
    S3Bucket(bucket_name=bucket, credentials=creds).upload_from_path(path, "shown.bin")
    print("DONE")
""")


@pytest.mark.parametrize("ci", [None, "true"])
def test_progress_bar_on_a_real_terminal(server_bucket, moto_server, tmp_path, ci):
    script = tmp_path / "upload.py"
    script.write_text(_UPLOAD_SCRIPT)
    source = _random_file(tmp_path / "shown.bin", 24)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = ci

    child = pexpect.spawn(sys.executable, [str(script), moto_server, server_bucket.bucket_name,
                                           str(source)], env=env, timeout=60)
    child.expect("DONE")
    output = child.before.decode(errors="replace")
    child.wait()

    bar_drawn = "upload shown.bin" in output and "MB" in output
    assert bar_drawn is (ci is None), output


def test_folder_upload_to_a_missing_bucket_is_named(mocked_aws, aws_credentials, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("a")
    bucket = S3Bucket(bucket_name="gone-bucket", credentials=aws_credentials)

    with pytest.raises(S3BucketNotFound, match="'gone-bucket'"):
        bucket.upload_from_folder(tmp_path / "src")
    with pytest.raises(S3BucketNotFound, match="'gone-bucket'"):
        bucket.download_folder_to_path("", tmp_path / "out")
