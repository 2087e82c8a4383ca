"""core-blocks-aws's plugin (entry point `aws`): its block types and its secret backend.

Imports happen inside the hooks, and the block modules import boto3 only inside the methods
that call AWS, so discovery (`blocks types`) never pays for boto3.
"""

from core_blocks import hookimpl


@hookimpl
def register_block_types():
    from prefect_aws.client_parameters import AwsClientParameters
    from prefect_aws.credentials import AwsCredentials, MinIOCredentials
    from prefect_aws.lambda_function import LambdaFunction
    from prefect_aws.s3 import S3Bucket
    from prefect_aws.secrets_manager import AwsSecret

    return [AwsClientParameters, AwsCredentials, MinIOCredentials, S3Bucket, AwsSecret,
            LambdaFunction]


@hookimpl
def register_secret_backends():
    from prefect_aws.secret_backend import AwsSecretsManagerBackend

    return [AwsSecretsManagerBackend]
