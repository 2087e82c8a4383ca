"""S3Bucket.list_objects entries: paths that also read as S3's object descriptions, as
Prefect's list_objects returns them, and that downloads take back."""

from __future__ import annotations

import pickle

import pytest

from prefect_aws import S3Bucket


@pytest.fixture
def foldered(s3_bucket):
    bucket = S3Bucket(bucket_name=s3_bucket.bucket_name, bucket_folder="exports",
                      credentials=s3_bucket.credentials)
    for path in ("a.csv", "sub/b.csv"):
        bucket.write_path(path, path.encode())
    return bucket


def test_entries_read_as_s3_objects_with_full_keys(foldered):
    listed = foldered.list_objects()
    assert listed == ["a.csv", "sub/b.csv"]
    assert [o["Key"] for o in listed] == ["exports/a.csv", "exports/sub/b.csv"]
    assert [o["Size"] for o in listed] == [5, 9]
    assert {"ETag", "LastModified", "Size", "Key"} <= set(dict(listed[0]))
    assert listed[0].get("NoSuchField", "none") == "none"


def test_an_entry_is_passed_back_to_download(foldered, tmp_path):
    for obj in foldered.list_objects():
        target = foldered.download_object_to_path(obj, tmp_path / obj)
        assert target.read_bytes() == str(obj).encode()


def test_keys_without_a_folder_download_as_prefect_users_do(s3_bucket, tmp_path):
    s3_bucket.write_path("x/1.txt", b"one")
    [obj] = s3_bucket.list_objects()
    assert s3_bucket.read_path(obj["Key"]) == b"one"


def test_sub_folders_listed_with_a_delimiter_carry_their_prefix(foldered):
    listed = foldered.list_objects(delimiter="/")
    assert listed == ["a.csv", "sub/"]
    assert listed[1]["Prefix"] == "exports/sub/"


def test_an_entry_is_still_a_string(foldered):
    obj = foldered.list_objects()[0]
    assert obj[0] == "a" and obj[-4:] == ".csv" and obj.upper() == "A.CSV"
    copy = pickle.loads(pickle.dumps(obj))
    assert copy == obj and copy["Key"] == "exports/a.csv"
    with pytest.raises(KeyError, match="S3 gave no 'Owner' for 'a.csv'"):
        obj["Owner"]


def test_no_bucket_folder_is_none_as_in_prefect(s3_bucket):
    bucket = S3Bucket(bucket_name=s3_bucket.bucket_name, bucket_folder=None,
                      credentials=s3_bucket.credentials)
    assert bucket.bucket_folder == ""
    assert bucket.write_path("top.txt", b"x") == "top.txt"


def test_a_full_key_is_not_prefixed_twice(foldered):
    assert foldered.read_path("exports/sub/b.csv") == b"sub/b.csv"
    assert foldered._resolve_path("exports/a.csv") == "exports/a.csv"
    assert foldered._resolve_path("a.csv") == "exports/a.csv"
    assert foldered._resolve_path("exportsX/a.csv") == "exports/exportsX/a.csv"
    for obj in foldered.list_objects():
        assert foldered.read_path(obj["Key"]) == str(obj).encode()
