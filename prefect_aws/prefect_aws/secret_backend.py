"""The `aws-secrets-manager` secret backend: block secrets kept in AWS Secrets Manager.

Choose it with CORE_BLOCKS_SECRET_BACKEND=aws-secrets-manager. Each saved block's secret
fields become one secret, named CORE_BLOCKS_AWS_SECRETS_PREFIX + the core's key, holding
them as JSON. Configuration comes from the environment:

- CORE_BLOCKS_AWS_SECRETS_REGION: region (else AWS_REGION, AWS_DEFAULT_REGION, the profile's)
- CORE_BLOCKS_AWS_SECRETS_ENDPOINT_URL: another endpoint (a VPC endpoint, a local emulator)
- CORE_BLOCKS_AWS_SECRETS_PREFIX: secret name prefix, default "core-blocks/"
- CORE_BLOCKS_AWS_SECRETS_PROFILE: profile of the shared AWS config files

Credentials come from boto3's default chain (environment, profile, instance or task role):
the backend cannot itself depend on a block whose secrets it holds.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from typing import Any

from core_blocks.errors import SecretBackendError
from core_blocks.secrets.base import SecretBackend
from core_blocks.settings import Settings
from prefect_aws.error_translation import Advice, translate

REGION = "CORE_BLOCKS_AWS_SECRETS_REGION"
ENDPOINT = "CORE_BLOCKS_AWS_SECRETS_ENDPOINT_URL"
PREFIX = "CORE_BLOCKS_AWS_SECRETS_PREFIX"
PROFILE = "CORE_BLOCKS_AWS_SECRETS_PROFILE"
DEFAULT_PREFIX = "core-blocks/"
_GONE = ("ResourceNotFoundException",)
# Where the backend's endpoint, credentials and CA bundle come from: not a block's fields.
_ADVICE = Advice(
    endpoint=(f"Check {ENDPOINT} (or AWS_ENDPOINT_URL_SECRETS_MANAGER), {REGION} and your "
              "network."),
    credentials=("Check the credentials of boto3's default chain (AWS_ACCESS_KEY_ID and "
                 f"AWS_SECRET_ACCESS_KEY, {PROFILE}, or the instance or task role) and their "
                 "secretsmanager permissions on the secrets under "
                 f"{PREFIX}."),
    key_id=(f"Fix AWS_ACCESS_KEY_ID (or the key of the profile named by {PROFILE}): AWS "
            "knows no such key."),
    secret_key=(f"Fix AWS_SECRET_ACCESS_KEY (or the secret key of the profile named by "
                f"{PROFILE}): it must be the one issued with the access key id."),
    session=("Get new temporary credentials and update AWS_SESSION_TOKEN, or use long-term "
             "keys, a profile or a role that renews itself."),
    permissions=("Grant these credentials secretsmanager permissions (GetSecretValue, "
                 f"CreateSecret, PutSecretValue, DeleteSecret) on the secrets under {PREFIX}."),
    region=f"Set {REGION} to the region of the secrets.",
    tls=("Check AWS_CA_BUNDLE: the path of the CA bundle that signed the endpoint's "
         f"certificate, for the endpoint set by {ENDPOINT}."),
)


def _config() -> tuple[str | None, str | None, str, str | None]:
    env = os.environ
    region = env.get(REGION) or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    return (region or None, env.get(ENDPOINT) or None, env.get(PREFIX, DEFAULT_PREFIX),
            env.get(PROFILE) or None)


class AwsSecretsManagerBackend(SecretBackend):
    name = "aws-secrets-manager"
    description = (f"AWS Secrets Manager; {REGION}, {ENDPOINT}, {PREFIX} and {PROFILE} "
                   "configure it, credentials from boto3's default chain")

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self._client_for: tuple[tuple[Any, ...], Any] | None = None
        self._lock = threading.Lock()

    @classmethod
    def unusable_reason(cls, settings: Settings) -> str | None:
        if importlib.util.find_spec("boto3") is None:
            return "boto3 is not installed (pip install core-blocks-aws)"
        region, _, _, profile = _config()
        if region is None and _profile_region(profile) is None:
            return f"no AWS region: set {REGION} (or AWS_REGION)"
        return None

    # -- client ----------------------------------------------------------------------

    def _client(self) -> Any:
        config = _config()
        with self._lock:
            if self._client_for is None or self._client_for[0] != config:
                import boto3

                from prefect_aws.log_masking import hide_aws_secrets

                hide_aws_secrets()  # its request and response bodies carry secret values
                region, endpoint, _, profile = config
                try:
                    session = boto3.Session(profile_name=profile, region_name=region)
                    client = session.client("secretsmanager", endpoint_url=endpoint)
                except Exception as exc:
                    raise self._error("connect to", None, exc, None) from None
                self._client_for = (config, client)
            return self._client_for[1]

    def _name(self, key: str) -> str:
        return _config()[2] + key

    def _error(self, what: str, key: str | None, exc: BaseException, client: Any
               ) -> SecretBackendError:
        target = self._name(key) if key else "AWS Secrets Manager"
        if type(exc).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
            reason = (f"no AWS credentials found. Provide them through AWS_ACCESS_KEY_ID and "
                      f"AWS_SECRET_ACCESS_KEY, {PROFILE}, or an instance or task role.")
        else:
            # The client's endpoint is the one called, whichever variable set it.
            translated = translate(exc, endpoint=None if client else _config()[1], client=client,
                                   secret_name=target, advice=_ADVICE)
            reason = str(translated) if translated is not None else type(exc).__name__
        return SecretBackendError(
            f"The aws-secrets-manager secret backend could not {what} {target}: {reason}")

    # -- backend ---------------------------------------------------------------------

    def read(self, key: str, ref: str) -> dict[str, Any] | None:
        client = self._client()
        try:
            response = client.get_secret_value(SecretId=self._name(key))
        except Exception as exc:
            if _code(exc) in _GONE or _scheduled_for_deletion(exc):
                return None
            raise self._error("read", key, exc, client) from None
        return json.loads(response["SecretString"])

    def write(self, key: str, values: dict[str, Any], ref: str) -> None:
        client = self._client()
        text = json.dumps(values)
        try:
            client.create_secret(Name=self._name(key), SecretString=text,
                                 Description=f"core-blocks secret fields of {ref}")
        except Exception as exc:
            if _code(exc) != "ResourceExistsException":
                raise self._error("write", key, exc, client) from None
            try:
                client.put_secret_value(SecretId=self._name(key), SecretString=text)
            except Exception as exc2:
                raise self._error("write", key, exc2, client) from None

    def delete(self, key: str) -> None:
        client = self._client()
        try:
            # No recovery window: the core never reuses a key, and a lingering secret would
            # keep its name taken and its value readable for up to 30 days.
            client.delete_secret(SecretId=self._name(key), ForceDeleteWithoutRecovery=True)
        except Exception as exc:
            if _code(exc) not in _GONE:
                raise self._error("delete", key, exc, client) from None


def _code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def _scheduled_for_deletion(exc: BaseException) -> bool:
    response = getattr(exc, "response", None) or {}
    message = str(response.get("Error", {}).get("Message", "")).lower()
    return _code(exc) == "InvalidRequestException" and "delet" in message


def _profile_region(profile: str | None) -> str | None:
    try:
        import boto3

        return boto3.Session(profile_name=profile).region_name
    except Exception:  # an unknown profile has no region either
        return None
