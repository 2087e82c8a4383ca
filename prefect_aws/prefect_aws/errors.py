"""The errors prefect_aws raises: one sentence naming the bucket, key, secret or endpoint
involved and what to do, never a secret value.

Each error raised for an AWS failure is also an instance of the botocore class it replaces
(ClientError, EndpointConnectionError, NoCredentialsError, ...), so code written to catch
botocore's errors still does (prefect_aws.botocore_classes). How botocore's exceptions become
these: prefect_aws.error_translation, with the sentence for each AWS error code in
prefect_aws.error_codes.
"""

from __future__ import annotations

from core_blocks.errors import CoreBlocksError


class AwsError(CoreBlocksError):
    """An AWS call that failed; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 retryable: bool = False):
        super().__init__(message)
        self.code = code
        self.status = status
        self.retryable = retryable


class AwsCredentialsError(AwsError, PermissionError):
    """Credentials that AWS refused, could not find, or that lack a permission."""


class AwsEndpointError(AwsError, ConnectionError):
    """An endpoint that could not be reached (refused, reset, timed out), that dropped the
    connection mid-transfer, or whose TLS certificate failed the check (not retryable)."""


class S3BucketNotFound(AwsError, LookupError):
    """A bucket that does not exist."""


class S3ObjectNotFound(AwsError, LookupError):
    """A key that does not exist in its bucket."""


class S3ObjectArchived(AwsError):
    """An object in an archive storage class (GLACIER, DEEP_ARCHIVE, ...): S3 serves it only
    after a restore (InvalidObjectState)."""


class AwsSecretNotFound(AwsError, LookupError):
    """A Secrets Manager secret that does not exist (or is scheduled for deletion)."""


class LocalPathNotFound(CoreBlocksError, FileNotFoundError):
    """A local file or folder to upload that does not exist."""
