"""`blocks create aws-credentials/NAME` on a terminal asks for the access key ID and then the
secret key that must go with it (hidden), rather than refusing the pair at the end."""

from __future__ import annotations

from prefect_aws import AwsCredentials
from tests.helpers import finish
from tests.helpers import spawn_blocks as spawn


def test_a_fully_interactive_create_asks_for_the_key_id_and_then_its_secret(canary):
    child = spawn("create", "aws-credentials/prod")
    child.expect(r"Set optional fields \(aws_access_key_id, aws_secret_access_key, ")
    child.sendline("y")
    child.expect(r"aws_access_key_id \(Access key ID[\s\S]*?\(Enter:\s+none\): ")  # may wrap
    child.sendline("AKIAEXAMPLEKEY")
    child.expect(r"aws_secret_access_key .*: ")
    child.waitnoecho(timeout=10)
    child.sendline("")  # the key ID needs its secret key: explained and asked again
    child.expect(r"Invalid value for field 'aws_secret_access_key' of aws-credentials: set it "
                 r"together with aws_access_key_id")
    child.expect(r"aws_secret_access_key .*: ")
    child.waitnoecho(timeout=10)
    child.sendline(canary)
    child.expect(r"aws_session_token .*: ")
    child.sendline("")
    child.expect(r"profile_name .*: ")
    child.sendline("")
    child.expect(r"region_name .*: ")
    child.sendline("eu-west-1")
    for _ in ("assume_role_arn", "assume_role_kwargs", "aws_client_parameters"):
        child.expect(r"\(Enter: ")
        child.sendline("")
    assert finish(child) == 0, child.transcript.getvalue()

    assert canary not in child.transcript.getvalue()
    saved = AwsCredentials.load("prod")
    assert (saved.aws_access_key_id, saved.region_name) == ("AKIAEXAMPLEKEY", "eu-west-1")
    assert saved.aws_secret_access_key.get_secret_value() == canary


def test_a_key_id_given_with_set_still_asks_for_its_secret_key(canary):
    child = spawn("create", "aws-credentials/ci", "--set", "aws_access_key_id=AKIAEXAMPLEKEY")
    child.expect(r"aws_secret_access_key is needed: set it together with aws_access_key_id")
    child.expect(r"aws_secret_access_key \(Secret access key[^)]*\): ")
    child.waitnoecho(timeout=10)
    child.sendline(canary)
    assert finish(child) == 0, child.transcript.getvalue()

    assert canary not in child.transcript.getvalue()
    assert AwsCredentials.load("ci").aws_secret_access_key.get_secret_value() == canary


def test_a_session_token_given_with_set_asks_for_the_keys_it_belongs_to(canary):
    child = spawn("create", "aws-credentials/temp", "--set", f"aws_session_token={canary}")
    child.expect(r"aws_access_key_id is needed: set it only with aws_access_key_id and "
                 r"aws_secret_access_key")
    child.expect(r"aws_access_key_id \(Access key ID[^)]*\): ")
    child.sendline("ASIAEXAMPLEKEY")
    child.expect(r"aws_secret_access_key \(Secret access key[^)]*\): ")
    child.waitnoecho(timeout=10)
    child.sendline("temporary-secret-key")
    assert finish(child) == 0, child.transcript.getvalue()

    saved = AwsCredentials.load("temp")
    assert saved.aws_access_key_id == "ASIAEXAMPLEKEY"
    assert saved.aws_session_token.get_secret_value() == canary
