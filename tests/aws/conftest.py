"""Fixtures for the core-blocks-aws tests: moto in process (`mocked_aws`) and over HTTP
(`moto_server`).

Every test gets fake AWS keys in the environment and no AWS config files, so nothing here can
reach real AWS or read the real ~/.aws.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.request
import uuid

import pytest

from tests.conftest import service_missing

# Runs in its own process: state apart from `mock_aws`, and a real server as in production.
_SERVER = """
import sys
from moto.server import ThreadedMotoServer

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # serve until the test session closes our stdin
server.stop()
"""

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch, tmp_path):
    """Fake keys, one region, no AWS config files and no instance metadata lookups."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                 "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
                 "AWS_ENDPOINT_URL_SECRETS_MANAGER", "CORE_BLOCKS_AWS_SECRETS_REGION",
                 "CORE_BLOCKS_AWS_SECRETS_ENDPOINT_URL", "CORE_BLOCKS_AWS_SECRETS_PREFIX",
                 "CORE_BLOCKS_AWS_SECRETS_PROFILE"):
        monkeypatch.delenv(name, raising=False)  # AWS_ENDPOINT_URL would also break mock_aws
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def mocked_aws(aws_env):
    """moto's in-process mock of every AWS service, fresh for each test."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def aws_credentials():
    """AwsCredentials with fake keys (what moto accepts)."""
    from prefect_aws import AwsCredentials

    return AwsCredentials(aws_access_key_id="testing", aws_secret_access_key="testing",
                          region_name=REGION)


@pytest.fixture
def s3_bucket(mocked_aws, aws_credentials):
    """An S3Bucket on a new, empty bucket of the in-process mock."""
    from prefect_aws import S3Bucket

    aws_credentials.get_s3_client().create_bucket(Bucket="test-bucket")
    return S3Bucket(bucket_name="test-bucket", credentials=aws_credentials)


@pytest.fixture(scope="session")
def moto_server_url(tmp_path_factory):
    """A moto server on 127.0.0.1 in its own process, for the whole session."""
    try:
        import moto.server  # noqa: F401
    except ImportError as exc:
        service_missing("moto's server", f"pip install 'moto[server]' ({exc})")
    log = (tmp_path_factory.mktemp("moto") / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-c", _SERVER], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=log)
    port = proc.stdout.readline().decode().strip()
    if not port.isdigit():
        proc.kill()
        service_missing("moto's server", f"it did not start; see {log.name}")
    yield f"http://127.0.0.1:{port}"
    proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.fixture
def moto_server(moto_server_url):
    """The session's moto server URL, its state wiped after the test."""
    yield moto_server_url
    request = urllib.request.Request(f"{moto_server_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture
def server_credentials(moto_server):
    """AwsCredentials with fake keys, pointed at the moto server."""
    from prefect_aws import AwsClientParameters, AwsCredentials

    return AwsCredentials(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION,
        aws_client_parameters=AwsClientParameters(endpoint_url=moto_server))


@pytest.fixture
def server_bucket(server_credentials):
    """An S3Bucket on a new bucket of the moto server."""
    from prefect_aws import S3Bucket

    name = f"bucket-{uuid.uuid4().hex[:12]}"
    server_credentials.get_s3_client().create_bucket(Bucket=name)
    return S3Bucket(bucket_name=name, credentials=server_credentials)


def closed_port() -> int:
    """A local port nothing listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


