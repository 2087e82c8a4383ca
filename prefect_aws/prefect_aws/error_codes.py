"""What each AWS error code means for the user, as a table: the error raised, its sentence
(what happened, then what to do) and whether a retry may help.

A sentence is a `str.format` template over the failure's context: `{thing}` ("object 'a.csv'
in S3 bucket 'raw'"), `{Thing}` (the same, capitalised), `{where}` (" at ENDPOINT" or ""),
`{bucket}`, `{key}`, `{secret_name}`, `{code}`, `{storage_class}` (" (GLACIER)" or "") and
`{advice}` (where the caller configures credentials and endpoints: a block and the secret
backend are set up in different places). A rule may need some of these (`needs`) or a word in
AWS's message (`message_has`); when it does not apply, the status-based default does.
"""

from __future__ import annotations

from typing import NamedTuple

from prefect_aws.errors import (
    AwsCredentialsError,
    AwsError,
    AwsSecretNotFound,
    S3BucketNotFound,
    S3ObjectArchived,
    S3ObjectNotFound,
)


class Advice(NamedTuple):
    """Where the caller fixes each kind of problem."""

    endpoint: str = "Check endpoint_url in aws_client_parameters, the region and your network."
    credentials: str = ("Check the access key, secret key, session token and the permissions "
                        "they grant.")
    key_id: str = ("Fix aws_access_key_id on the credentials block (for MinIO or another "
                   "S3-compatible server, use a key that server issued, and its endpoint_url).")
    secret_key: str = ("Fix aws_secret_access_key on the credentials block: it must be the one "
                       "issued with aws_access_key_id.")
    session: str = ("Get new temporary credentials and update aws_session_token (or use "
                    "long-term keys, a profile or a role that renews itself).")
    permissions: str = ("Grant these credentials the permission for this call on this resource "
                        "(IAM policy or bucket policy), or use credentials that have it.")
    region: str = "Set region_name on the credentials block to the bucket's region."
    tls: str = ("Check verify in aws_client_parameters: the path of the CA bundle that signed "
                "the endpoint's certificate (false only for a test server you trust).")


BLOCK_ADVICE = Advice()


class CodeRule(NamedTuple):
    """How one AWS error code reads."""

    error: type[AwsError]
    sentence: str
    retryable: bool = False
    needs: tuple[str, ...] = ()  # context fields the sentence cannot do without
    message_has: str = ""  # a word AWS's own message must contain (lower case)


_THROTTLED = CodeRule(
    AwsError, "AWS is throttling calls on {thing}{where} ({code}): too many requests at once. "
    "The S3 tasks retry with backoff; otherwise retry later, or lower max_concurrency.",
    retryable=True)
_AWS_SIDE = CodeRule(
    AwsError, "AWS failed on {thing}{where} ({code}), a fault on its side. Try again; the S3 "
    "tasks retry this on their own.", retryable=True)
_KEY_ID = CodeRule(
    AwsCredentialsError, "AWS refused the credentials for {thing}{where} ({code}): it knows no "
    "such access key id. {advice.key_id}")
_SESSION = CodeRule(
    AwsCredentialsError, "AWS refused the credentials for {thing}{where} ({code}): the session "
    "token has expired or is not valid. {advice.session}")
_DENIED = CodeRule(
    AwsCredentialsError, "AWS denied access to {thing}{where} ({code}): the credentials were "
    "accepted but lack the permission for this call. {advice.permissions}")

RULES: dict[str, CodeRule] = {
    # -- buckets and objects ------------------------------------------------------------------
    "NoSuchBucket": CodeRule(
        S3BucketNotFound, "S3 bucket {bucket!r} does not exist{where}. Create it, or fix "
        "bucket_name.", needs=("bucket",)),
    "NoSuchKey": CodeRule(
        S3ObjectNotFound, "No object {key!r} in S3 bucket {bucket!r}{where}. List what is there "
        "with list_objects().", needs=("bucket",)),
    "NoSuchVersion": CodeRule(
        S3ObjectNotFound, "{Thing} has no such version{where} (NoSuchVersion). List its "
        "versions (list_object_versions) and use one of them."),
    "InvalidObjectState": CodeRule(
        S3ObjectArchived, "{Thing} is archived{storage_class}{where} (InvalidObjectState): S3 "
        "serves it only after a restore. Restore it first (restore_object, or aws s3api "
        "restore-object), wait until the restore completes, then read it; to keep objects "
        "readable, copy them with a StorageClass such as STANDARD_IA instead."),
    "InvalidBucketName": CodeRule(
        AwsError, "S3 refuses the bucket name {bucket!r}{where} (InvalidBucketName): 3 to 63 "
        "lowercase letters, digits, dots and hyphens, starting and ending with a letter or "
        "digit. Fix bucket_name.", needs=("bucket",)),
    "BucketAlreadyExists": CodeRule(
        AwsError, "S3 bucket name {bucket!r} is taken by another AWS account{where} "
        "(BucketAlreadyExists): names are global. Choose another bucket_name.",
        needs=("bucket",)),
    "BucketAlreadyOwnedByYou": CodeRule(
        AwsError, "S3 bucket {bucket!r} exists already and is yours{where} "
        "(BucketAlreadyOwnedByYou). Use it as it is; there is nothing to create.",
        needs=("bucket",)),
    "BucketNotEmpty": CodeRule(
        AwsError, "S3 bucket {bucket!r} is not empty{where} (BucketNotEmpty). Delete its "
        "objects (and their versions) first.", needs=("bucket",)),
    "KeyTooLongError": CodeRule(
        AwsError, "The key of {thing} is too long{where} (KeyTooLongError): S3 keys take at "
        "most 1,024 bytes. Shorten the path or bucket_folder."),
    "EntityTooLarge": CodeRule(
        AwsError, "{Thing} is larger than S3 takes in one request{where} (EntityTooLarge): one "
        "PUT or copy takes at most 5 GiB. Upload it with upload_from_path or "
        "upload_from_file_object (multipart above multipart_threshold); copy_object copies "
        "large objects in parts."),
    "EntityTooSmall": CodeRule(
        AwsError, "A part of the multipart upload of {thing} is too small{where} "
        "(EntityTooSmall): every part but the last must be at least 5 MiB. Set "
        "multipart_chunksize to 5 MiB or more."),
    "NoSuchUpload": CodeRule(
        AwsError, "The multipart upload of {thing} no longer exists{where} (NoSuchUpload): it "
        "was completed or aborted meanwhile, perhaps by a lifecycle rule. Upload it again."),
    "PreconditionFailed": CodeRule(
        AwsError, "{Thing} did not meet the request's condition{where} (PreconditionFailed): "
        "it changed since it was read. Read it again, then retry the call."),
    "InvalidRange": CodeRule(
        AwsError, "The byte range asked of {thing} lies outside it{where} (InvalidRange). Ask "
        "for a range within the object's size."),
    "InvalidStorageClass": CodeRule(
        AwsError, "The storage class given for {thing} is not one S3 knows{where} "
        "(InvalidStorageClass). Use STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, "
        "GLACIER_IR, GLACIER or DEEP_ARCHIVE."),
    "MethodNotAllowed": CodeRule(
        AwsError, "The endpoint does not allow this call on {thing}{where} (MethodNotAllowed). "
        "Check the object's state (a delete marker, for one) and what the endpoint supports."),
    "NotImplemented": CodeRule(
        AwsError, "The endpoint does not implement this call on {thing}{where} "
        "(NotImplemented): an S3-compatible server may lack it. Use a call it supports."),
    # -- the wrong region ------------------------------------------------------------------------
    "PermanentRedirect": CodeRule(
        AwsError, "{Thing} lives in another AWS region than the one called{where} "
        "(PermanentRedirect). {advice.region}"),
    "AuthorizationHeaderMalformed": CodeRule(
        AwsError, "The request for {thing} was signed for another AWS region than the "
        "bucket's{where} (AuthorizationHeaderMalformed). {advice.region}"),
    "IllegalLocationConstraintException": CodeRule(
        AwsError, "The region asked for {thing} does not match the endpoint's{where} "
        "(IllegalLocationConstraintException). {advice.region}"),
    # -- credentials and permissions -------------------------------------------------------------
    "InvalidAccessKeyId": _KEY_ID,
    "InvalidClientTokenId": _KEY_ID,
    "UnrecognizedClientException": _KEY_ID,
    "AuthFailure": _KEY_ID,
    "SignatureDoesNotMatch": CodeRule(
        AwsCredentialsError, "AWS refused the credentials for {thing}{where} "
        "(SignatureDoesNotMatch): the request signature does not match, so the secret access "
        "key is wrong for this access key id. {advice.secret_key}"),
    "ExpiredToken": _SESSION,
    "ExpiredTokenException": _SESSION,
    "InvalidToken": _SESSION,
    "RequestTimeTooSkewed": CodeRule(
        AwsCredentialsError, "AWS refused the request for {thing}{where} "
        "(RequestTimeTooSkewed): this machine's clock is more than 15 minutes off. Set the "
        "clock right (NTP), then try again."),
    "AccessDenied": _DENIED,
    "AccessDeniedException": _DENIED,
    "AllAccessDisabled": CodeRule(
        AwsCredentialsError, "All access to {thing} is disabled{where} (AllAccessDisabled): "
        "its owner's account is suspended or the bucket blocked. Ask the bucket's owner."),
    "AccountProblem": CodeRule(
        AwsCredentialsError, "AWS refused {thing}{where} (AccountProblem): the account behind "
        "these credentials has a problem (billing, suspension). Check it in the AWS console."),
    "403": CodeRule(  # a HEAD answer: no body, so no code says which
        AwsCredentialsError, "AWS refused the credentials for {thing}{where} (HTTP 403, an "
        "answer without a reason): they are wrong or lack a permission. {advice.credentials}"),
    # -- Secrets Manager -------------------------------------------------------------------------
    "ResourceNotFoundException": CodeRule(
        AwsSecretNotFound, "No secret {secret_name!r} in AWS Secrets Manager{where}. Create it "
        "with write_secret(), or fix secret_name.", needs=("secret_name",)),
    "InvalidRequestException": CodeRule(
        AwsSecretNotFound, "The secret {secret_name!r} is scheduled for deletion{where}. "
        "Restore it in AWS (restore-secret) or use another secret_name.",
        needs=("secret_name",), message_has="delet"),
    # -- slow down, try again ----------------------------------------------------------------
    "SlowDown": CodeRule(
        AwsError, "S3 asked to slow down on {thing}{where} (SlowDown): too many requests on "
        "this prefix at once. The S3 tasks retry with backoff; otherwise lower "
        "max_concurrency, or spread the keys over more prefixes.", retryable=True),
    **dict.fromkeys((
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "RequestThrottled",
        "PriorRequestNotComplete", "EC2ThrottledException"), _THROTTLED),
    **dict.fromkeys(("InternalError", "ServiceUnavailable"), _AWS_SIDE),
    **dict.fromkeys(("RequestTimeout", "RequestTimeoutException"), CodeRule(
        AwsError, "AWS closed the connection for {thing}{where} ({code}): the request body "
        "came too slowly. Try again; the S3 tasks retry this on their own.", retryable=True)),
}

# Error codes meaning "slow down" or "try again later": retried by the tasks.
TRANSIENT_CODES = frozenset(code for code, rule in RULES.items() if rule.retryable)
