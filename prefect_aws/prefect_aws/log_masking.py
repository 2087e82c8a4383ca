"""Keeping AWS credentials and secret values out of botocore's DEBUG log.

At DEBUG, botocore logs each request's headers (`'X-Amz-Security-Token': b'<token>'`), the
canonical request it signs (`x-amz-security-token:<token>`) and request and response bodies
(a Secrets Manager `SecretString`). A filter on the SDK's loggers masks those, and every
secret key or session token a credentials block handed to boto3, before any handler sees the
record. Installed when a session is built, so importing this package costs nothing.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from core_blocks.log_masking import MASK, SecretLogFilter

__all__ = ["MASK", "hide_aws_secrets", "mask"]

_SDK_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3")
# Loggers that print requests; made now, so the filter is on them before botocore logs.
_KNOWN = ("botocore.endpoint", "botocore.auth", "botocore.parsers", "botocore.hooks",
          "botocore.awsrequest", "botocore.httpsession", "botocore.retryhandler",
          "botocore.client", "botocore.signers", "urllib3.connectionpool")
# The token as a header (`name: b'value'`), a canonical-request line (`name:value`) or a
# presigned URL's query (`name=value`); a Secrets Manager value in a JSON body, whose quotes
# a bytes repr escapes once more (`\\"`).
_PATTERNS = (
    re.compile(r"""(x-amz-security-token['"]?\s*[:=]\s*b?['"]?)[^\s'"&,}]+""", re.IGNORECASE),
    re.compile(r'''("Secret(?:String|Binary)\\*"\s*:\s*\\*")(?:\\+.|[^"\\])*''')
)
_filter = SecretLogFilter("core_blocks.aws", _PATTERNS, min_length=4)


def mask(text: str, values: tuple[str, ...] = ()) -> str:
    """text with tokens, Secrets Manager values and the given secret values masked."""
    return _filter.mask(text, values)


def hide_aws_secrets(*secrets: str | None) -> None:
    """Mask these secret values, session tokens and Secrets Manager values in the SDK's logs.

    Puts the filter on every botocore, boto3, s3transfer and urllib3 logger that exists (a
    logger's filters see only its own records, not its children's), so call it when a
    session or client is built: the SDK's modules, and their loggers, exist by then.

        >>> hide_aws_secrets("wJalrXUtnFEMI/K7MDENG")
        >>> mask("secret=wJalrXUtnFEMI/K7MDENG", _filter.values)
        'secret=**********'
    """
    # As is, and as a URL's query carries it.
    _filter.add_values(*(form for s in secrets if s for form in (s, quote(s, safe=""))))
    _filter.install(n for n in (*_SDK_LOGGERS, *_KNOWN, *list(logging.root.manager.loggerDict))
                    if n.split(".")[0] in _SDK_LOGGERS)
