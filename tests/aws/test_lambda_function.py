"""LambdaFunction against moto's Lambda (its docker-free backend: a function answers with the
payload it was sent)."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile

import pytest

from core_blocks import Block
from prefect_aws import LambdaFunction


@pytest.fixture
def mocked_lambda(aws_env):
    from moto import mock_aws

    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield


@pytest.fixture
def function(mocked_lambda, aws_credentials):
    """A function "echo" with a published version 1."""
    iam = aws_credentials.get_client("iam")
    role = iam.create_role(RoleName="echo-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("echo.py", "def handler(event, context):\n    return event\n")
    aws_credentials.get_client("lambda").create_function(
        FunctionName="echo", Runtime="python3.11", Role=role, Handler="echo.handler",
        Code={"ZipFile": code.getvalue()}, Publish=True)
    return LambdaFunction(function_name="echo", aws_credentials=aws_credentials)


def test_invoke_sends_the_payload_as_json(function):
    response = function.invoke(payload={"foo": "bar"})
    assert response["StatusCode"] == 200
    assert json.loads(response["Payload"].read()) == {"foo": "bar"}


def test_invoke_with_qualifier_tail_and_client_context(function):
    pinned = function.model_copy(update={"qualifier": "1"})
    response = pinned.invoke(payload={"n": 1}, tail=True, client_context={"bar": "foo"})
    assert json.loads(response["Payload"].read()) == {"n": 1}


def test_event_invocation_returns_at_once(function):
    assert function.invoke(invocation_type="Event")["StatusCode"] == 202


def test_ainvoke(function):
    response = asyncio.run(function.ainvoke(payload={"x": [1, 2]}))
    assert json.loads(response["Payload"].read()) == {"x": [1, 2]}


def test_saved_and_loaded_by_type_slug(function, block_home):
    function.save("echo")
    loaded = Block.load("lambda-function/echo")
    assert isinstance(loaded, LambdaFunction) and loaded.function_name == "echo"


def test_an_empty_function_name_is_refused():
    from core_blocks import BlockValidationError

    with pytest.raises(BlockValidationError, match="function_name"):
        LambdaFunction(function_name=" ")
