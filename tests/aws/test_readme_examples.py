"""The package README's examples run as written, against moto's server."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "prefect_aws" / "README.md"


def example(marker: str) -> str:
    """The README's python block containing `marker`."""
    [code] = [block for block in re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
              if marker in block]
    return code


def test_the_archive_flow_runs(server_credentials, block_home):
    server_credentials.save("prod")
    client = server_credentials.get_s3_client()
    for bucket in ("raw", "archive"):
        client.create_bucket(Bucket=bucket)
    names: dict = {}
    exec(compile(example("def archive():"), str(README), "exec"), names)

    names["archive"]()

    [copied] = client.list_objects_v2(Bucket="archive")["Contents"]
    assert copied["Key"] == "2026/11/24.csv"
    assert client.list_objects_v2(Bucket="raw")["KeyCount"] == 0
