"""LambdaFunction: an AWS Lambda function, invoked through a saved block as in Prefect's
prefect_aws.lambda_function."""

from __future__ import annotations

import base64
import json
from typing import Any, Literal

from pydantic import Field, field_validator

from core_blocks import Block
from core_blocks.dispatch import threaded_dispatch
from prefect_aws.credentials import AwsCredentials
from prefect_aws.error_translation import aws_errors


class LambdaFunction(Block):
    """An AWS Lambda function (a version or alias of it with `qualifier`).

        >>> fn = LambdaFunction(function_name="resize-images",
        ...                     aws_credentials=AwsCredentials(region_name="eu-west-1"))
        >>> fn.invoke(payload={"key": "a.png"})["Payload"].read()  # doctest: +SKIP
        b'{"resized": true}'
    """

    _block_type_name = "Lambda Function"
    _documentation_url = "https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html"
    _capabilities = ()

    function_name: str = Field(description="Name or ARN of the Lambda function")
    qualifier: str | None = Field(
        default=None, description="Version or alias to invoke; the latest when empty")
    aws_credentials: AwsCredentials = Field(
        default_factory=AwsCredentials,
        description="aws-credentials block to call Lambda with (region required)")

    @field_validator("function_name")
    @classmethod
    def _name_is_set(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @threaded_dispatch
    def invoke(self, payload: dict | None = None,
               invocation_type: Literal["RequestResponse", "Event", "DryRun"] = "RequestResponse",
               tail: bool = False, client_context: dict | None = None) -> dict[str, Any]:
        """Invoke the function; return Lambda's response (`response["Payload"].read()` is
        what the function returned, `StatusCode`, and with `tail=True` the last 4 KB of its
        log, base64-encoded, in `LogResult`). `payload` goes as JSON; `client_context` (a
        dict) reaches the function as context.client_context. "Event" returns at once,
        "DryRun" only checks the call would be allowed. Awaited in async code (Prefect 3's
        rule), where the call runs in a worker thread."""
        kwargs: dict[str, Any] = {"FunctionName": self.function_name,
                                  "InvocationType": invocation_type}
        if payload is not None:
            kwargs["Payload"] = json.dumps(payload).encode()
        if self.qualifier:
            kwargs["Qualifier"] = self.qualifier
        if tail:
            kwargs["LogType"] = "Tail"
        if client_context is not None:
            kwargs["ClientContext"] = base64.b64encode(json.dumps(client_context).encode()
                                                       ).decode()
        client = self.aws_credentials.get_client("lambda")
        with aws_errors(client=client):
            return client.invoke(**kwargs)

    ainvoke = invoke.aio  # Prefect's explicit async name
