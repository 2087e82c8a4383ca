"""The page refuses what `blocks create` refuses, in the same words: the checks are the block
types' own validation, so the JSON API the page posts to gets them too."""

from __future__ import annotations

import importlib.util

import pytest

from core_blocks.store import get_store


@pytest.mark.parametrize("slug, values, field, package", [
    ("webhook", {"url": "not a url-5b7e"}, "url", None),
    ("s3-bucket", {"bucket_name": "My_Bucket!!"}, "bucket_name", "prefect_aws"),
    ("aws-credentials", {"aws_session_token": "token-5b7e"}, "aws_session_token", "prefect_aws"),
    ("slack-webhook", {"url": "http://hooks.slack.com/services/T0/B0/X-5b7e"}, "url",
     "prefect_slack"),
], ids=["webhook-url", "s3-bucket-name", "aws-session-token", "slack-webhook-url"])
def test_the_page_refuses_a_bad_value_with_the_cli_words(client, slug, values, field, package):
    if package and importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} is not installed")
    from core_blocks.documents import class_for_slug

    reply = client.request("POST", "/api/blocks", {"type": slug, "name": "bad",
                                                   "values": values})

    assert reply.status == 422, reply.text
    with pytest.raises(Exception) as cli_error:  # what `blocks create` prints for the same
        class_for_slug(slug)(**values)
    assert list(reply.json["fields"]) == [field]
    assert reply.json["fields"][field] in str(cli_error.value)
    assert reply.json["fields"][field].startswith(f"Invalid {slug} block: field {field!r}: ")
    assert "5b7e" not in reply.text  # the value given is never sent back
    assert get_store().list_documents(include_anonymous=True) == []
