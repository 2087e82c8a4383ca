"""core-blocks-aws: AWS blocks (credentials, S3 buckets, Secrets Manager) and S3 tasks.

The block types load on first use, so `import prefect_aws` stays cheap; boto3 itself is only
imported by the methods that call AWS. The tasks live in `prefect_aws.s3`.

    from prefect_aws import AwsCredentials, S3Bucket
    from prefect_aws.s3 import s3_upload
"""

from typing import TYPE_CHECKING

from core_blocks.lazy_exports import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {  # public name -> module defining it
    "AwsClientParameters": "prefect_aws.client_parameters",
    "AwsCredentials": "prefect_aws.credentials",
    "MinIOCredentials": "prefect_aws.credentials",
    "S3Bucket": "prefect_aws.s3",
    "LambdaFunction": "prefect_aws.lambda_function",
    "AwsSecret": "prefect_aws.secrets_manager",
    "AwsSecretsManagerBackend": "prefect_aws.secret_backend",
    "AwsError": "prefect_aws.errors",
    "AwsCredentialsError": "prefect_aws.errors",
    "AwsEndpointError": "prefect_aws.errors",
    "AwsSecretNotFound": "prefect_aws.errors",
    "LocalPathNotFound": "prefect_aws.errors",
    "S3BucketNotFound": "prefect_aws.errors",
    "S3ObjectArchived": "prefect_aws.errors",
    "S3ObjectNotFound": "prefect_aws.errors",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)


if TYPE_CHECKING:  # one import per name of _EXPORTS, for type checkers (tests/packaging)
    from prefect_aws.client_parameters import AwsClientParameters
    from prefect_aws.credentials import AwsCredentials, MinIOCredentials
    from prefect_aws.errors import (
        AwsCredentialsError,
        AwsEndpointError,
        AwsError,
        AwsSecretNotFound,
        LocalPathNotFound,
        S3BucketNotFound,
        S3ObjectArchived,
        S3ObjectNotFound,
    )
    from prefect_aws.lambda_function import LambdaFunction
    from prefect_aws.s3 import S3Bucket
    from prefect_aws.secret_backend import AwsSecretsManagerBackend
    from prefect_aws.secrets_manager import AwsSecret
