"""Each AWS error code reads as its own sentence with its own remedy (prefect_aws.error_codes):
an archived object is not bad credentials, a wrong secret key is not a missing permission."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from prefect_aws.error_codes import BLOCK_ADVICE, RULES
from prefect_aws.error_translation import is_transient, translate
from prefect_aws.errors import (
    AwsCredentialsError,
    AwsError,
    AwsSecretNotFound,
    S3BucketNotFound,
    S3ObjectArchived,
    S3ObjectNotFound,
)

ENDPOINT = "http://127.0.0.1:9"


def client_error(code: str, status: int, **error) -> ClientError:
    response = {"Error": {"Code": code, "Message": "m", **error},
                "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "GetObject")


@pytest.mark.parametrize(("code", "status", "fields", "error", "remedy"), [
    ("InvalidObjectState", 403, {"StorageClass": "GLACIER"}, S3ObjectArchived,
     "is archived (GLACIER) at http://127.0.0.1:9 (InvalidObjectState): S3 serves it only "
     "after a restore. Restore it first"),
    ("NoSuchBucket", 404, {}, S3BucketNotFound, "Create it, or fix bucket_name."),
    ("NoSuchKey", 404, {}, S3ObjectNotFound, "List what is there with list_objects()."),
    ("AccessDenied", 403, {}, AwsCredentialsError,
     "accepted but lack the permission for this call. Grant these credentials"),
    ("InvalidAccessKeyId", 403, {}, AwsCredentialsError,
     "no such access key id. Fix aws_access_key_id"),
    ("SignatureDoesNotMatch", 403, {}, AwsCredentialsError,
     "secret access key is wrong for this access key id. Fix aws_secret_access_key"),
    ("ExpiredToken", 400, {}, AwsCredentialsError, "update aws_session_token"),
    ("RequestTimeTooSkewed", 403, {}, AwsCredentialsError, "Set the clock right"),
    ("SlowDown", 503, {}, AwsError, "lower max_concurrency"),
    ("EntityTooLarge", 400, {}, AwsError, "at most 5 GiB. Upload it with upload_from_path"),
    ("EntityTooSmall", 400, {}, AwsError, "Set multipart_chunksize to 5 MiB or more."),
    ("PermanentRedirect", 301, {}, AwsError, "Set region_name on the credentials block"),
    ("NoSuchUpload", 404, {}, AwsError, "Upload it again."),
])
def test_each_code_has_its_own_error_and_remedy(code, status, fields, error, remedy):
    translated = translate(client_error(code, status, **fields), bucket="raw", key="a.csv",
                           endpoint=ENDPOINT)

    assert type(translated).__name__ == error.__name__ and isinstance(translated, error)
    assert isinstance(translated, ClientError)
    assert remedy in str(translated) and "'raw'" in str(translated)
    assert (translated.code, translated.status) == (code, status)
    assert translated.retryable is is_transient(client_error(code, status)) is (
        code == "SlowDown")


def test_an_archived_object_is_not_reported_as_refused_credentials():
    translated = translate(client_error("InvalidObjectState", 403, StorageClass="GLACIER"),
                           bucket="archive", key="2026/11/24.csv")

    assert not isinstance(translated, (AwsCredentialsError, PermissionError))
    assert "credentials" not in str(translated)


def test_the_three_refusals_name_three_different_fixes():
    sentences = {code: str(translate(client_error(code, 403), bucket="raw", key="a.csv"))
                 for code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied")}

    assert "aws_access_key_id" in sentences["InvalidAccessKeyId"]
    assert "aws_secret_access_key" in sentences["SignatureDoesNotMatch"]
    assert "permission" in sentences["AccessDenied"]
    assert len({s.split(": ", 1)[1] for s in sentences.values()}) == 3


def test_a_rule_needing_context_it_lacks_gives_way_to_the_default():
    without_secret = translate(client_error("ResourceNotFoundException", 400))
    with_secret = translate(client_error("ResourceNotFoundException", 400), secret_name="db")
    not_deleted = translate(client_error("InvalidRequestException", 400), secret_name="db")

    assert type(without_secret).__name__ == "AwsError"
    assert str(without_secret) == "AWS failed on the request: ResourceNotFoundException (HTTP 400)."
    assert isinstance(with_secret, AwsSecretNotFound) and "'db'" in str(with_secret)
    assert not isinstance(not_deleted, AwsSecretNotFound)


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_sentence_of_the_table_formats_into_one_line_ending_with_a_remedy(code):
    rule = RULES[code]
    translated = translate(client_error(code, 400, Message="to be deleted"), bucket="raw",
                           key="a.csv", secret_name="db" if "secret_name" in rule.needs else None,
                           endpoint=ENDPOINT)

    text = str(translated)
    assert isinstance(translated, rule.error) and "\n" not in text and "{" not in text
    assert text.endswith(".") and "None" not in text
    assert ENDPOINT in text
    assert translated.retryable is rule.retryable


def test_the_three_refusals_of_a_real_s3_endpoint(mocked_aws):
    """moto checks signatures once authentication is on: the codes come from a real answer."""
    import boto3
    from moto.core import set_initial_no_auth_action_count

    from prefect_aws import AwsCredentials, S3Bucket

    @set_initial_no_auth_action_count(4)
    def refusals():
        iam = boto3.client("iam")
        iam.create_user(UserName="reader")
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="raw")
        s3.put_object(Bucket="raw", Key="a.csv", Body=b"id\n")
        found = {}
        for name, key_id, secret in [
                ("unknown key", "AKIAEXAMPLEUNKNOWN00", "x"),
                ("wrong secret", key["AccessKeyId"], "not-the-secret"),
                ("no permission", key["AccessKeyId"], key["SecretAccessKey"])]:
            bucket = S3Bucket(bucket_name="raw", credentials=AwsCredentials(
                aws_access_key_id=key_id, aws_secret_access_key=secret,
                region_name="us-east-1"))
            with pytest.raises(AwsCredentialsError) as caught:
                bucket.read_path("a.csv")
            found[name] = caught.value
        return found

    found = refusals()

    assert {name: e.code for name, e in found.items()} == {
        "unknown key": "InvalidAccessKeyId", "wrong secret": "SignatureDoesNotMatch",
        "no permission": "AccessDenied"}
    assert "Fix aws_access_key_id" in str(found["unknown key"])
    assert "Fix aws_secret_access_key" in str(found["wrong secret"])
    assert "Grant these credentials the permission" in str(found["no permission"])
    assert "not-the-secret" not in "".join(map(str, found.values()))


def test_reading_an_archived_object_says_to_restore_it(server_bucket):
    server_bucket.write_path("a.csv", b"id\n1\n")
    server_bucket.copy_object("a.csv", "cold/a.csv", StorageClass="GLACIER")

    with pytest.raises(S3ObjectArchived) as caught:
        server_bucket.read_path("cold/a.csv")

    assert str(caught.value).startswith(
        f"Object 'cold/a.csv' in S3 bucket '{server_bucket.bucket_name}' is archived (GLACIER) "
        f"at {server_bucket.credentials.aws_client_parameters.endpoint_url} "
        "(InvalidObjectState): S3 serves it only after a restore. Restore it first")
    assert isinstance(caught.value, ClientError) and not caught.value.retryable
    client = server_bucket.credentials.get_s3_client()
    client.restore_object(Bucket=server_bucket.bucket_name, Key="cold/a.csv",
                          RestoreRequest={"Days": 1})
    assert server_bucket.read_path("cold/a.csv") == b"id\n1\n"  # what the remedy says works


def test_the_block_advice_names_the_blocks_fields():
    assert "aws_access_key_id" in BLOCK_ADVICE.key_id
    assert "aws_secret_access_key" in BLOCK_ADVICE.secret_key
