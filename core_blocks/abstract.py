"""Abstract block interfaces that integrations implement: credentials, storage, notifiers, secrets.

Code written against an interface works with any implementation: a flow that takes an
`ObjectStorageBlock` runs on `LocalFileSystem` in tests and on `S3Bucket` in production.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from core_blocks.block import Block
from core_blocks.dispatch import running_sync

if TYPE_CHECKING:  # the transport (and httpx) load on the first notification only
    from contextlib import AbstractContextManager

    from pydantic import SecretStr

    from core_blocks.notify_http import HttpAnswer
    from core_blocks.runtime.notify import RunSummary


class CredentialsBlock(Block):
    """Credentials for a service, able to build an authenticated client for it."""

    @abstractmethod
    def get_client(self, *args: Any, **kwargs: Any) -> Any:
        """Return an authenticated client for the service."""


class NotificationBlock(Block):
    """Something that delivers a message: a webhook, a chat channel, an incident tool."""

    _capabilities = ("notify",)

    @abstractmethod
    def notify(self, body: str, subject: str | None = None) -> None:
        """Send body (and subject, if the channel has one); raise NotificationError on failure."""

    async def anotify(self, body: str, subject: str | None = None) -> None:
        """notify() for async code, run in a worker thread."""
        import asyncio  # only async callers pay for importing it
        await asyncio.to_thread(self.notify, body, subject)

    async def notify_async(self, body: str, subject: str | None = None) -> None:
        """anotify() under Prefect 3's name, for code written against Prefect's notifiers."""
        await self.anotify(body, subject)

    def raise_on_failure(self) -> AbstractContextManager[None]:
        """A context manager that does nothing, kept for Prefect-style code:
        `with hook.raise_on_failure(): hook.notify(...)`.

        Ours always raises NotificationError when a message is not delivered, inside this
        block or not; Prefect's notify() ignores failures outside raise_on_failure().
        """
        from contextlib import nullcontext

        return nullcontext()

    def notify_run(self, run: RunSummary) -> None:
        """Announce a finished flow or task run; what the `notify(...)` hook calls.

        By default it sends `notify(run.body, subject=run.subject)`, the filled templates.
        Override it to lay the message out from the run's fields (flow, run, state, error,
        duration), as SlackWebhook does with Block Kit; keep `run.body` in it, since users
        choose that text with notify()'s template.
        """
        with running_sync():  # a notify() that follows Prefect 3's rule gives its value
            self.notify(run.body, subject=run.subject)

    def notifier_label(self) -> str:
        """How errors name this notifier: "Webhook 'alerts'", or "Webhook (unsaved)"."""
        name = self.saved_name
        return f"{self._block_type_name} {name!r}" if name else f"{self._block_type_name} (unsaved)"

    def post_http(self, method: str, url: str | SecretStr, *, json: Any = None,
                  content: bytes | str | None = None, headers: Mapping[str, str] | None = None,
                  timeout: float, idempotent: bool,
                  remedies: Mapping[int | str, str] | None = None,
                  explain: Callable[[HttpAnswer], str] | None = None) -> HttpAnswer:
        """Send one HTTP request for this notifier; return the 2xx answer or raise
        NotificationError.

        The URL and header values are treated as secret: no error, log record or chained
        exception shows them. `idempotent` says whether sending the request twice is harmless.
        Every request is sent again (at most twice, short backoff, Retry-After honoured up to
        10 s) when the connection could not be opened or the receiver answered 429; an
        idempotent one also after a 5xx, a timeout or a dropped connection. Errors name the
        block and the fix: override a fix per status (401, 404, 429...), per class ("4xx",
        "5xx") or per failure ("unreachable", "timeout", "invalid_url") with `remedies`.
        `explain(answer)` may add the server's own reason to an HTTP error (secrets blanked).

            class Ntfy(NotificationBlock):
                topic_url: SecretStr = Field(description="Topic URL; secret")

                def notify(self, body, subject=None):
                    self.post_http("POST", self.topic_url, content=body,
                                   headers={"Title": subject or ""}, timeout=10,
                                   idempotent=False,
                                   remedies={404: "check its topic_url"})
        """
        from pydantic import SecretStr

        from core_blocks.notify_http import send

        if isinstance(url, SecretStr):
            url = url.get_secret_value()
        return send(self.notifier_label(), method, url, json=json, content=content,
                    headers=headers, timeout=timeout, idempotent=idempotent,
                    remedies=remedies, explain=explain)


class SecretBlock(Block):
    """A block whose purpose is to hold one secret value.

    What `get()` returns is masked from then on in run history and run logs, wherever the
    implementation fetched it from (its secret field, a remote secret store).
    """

    @abstractmethod
    def get(self) -> Any:
        """Return the secret value."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        get = cls.__dict__.get("get")
        if callable(get) and not getattr(get, "_remembers", False):
            cls.get = _remembering(get)


def _remembering(get: Callable[..., Any]) -> Callable[..., Any]:
    """get, with the secret it returns added to the values run text and logs mask."""
    import functools

    from core_blocks.secret_values import remember_read

    @functools.wraps(get)
    def remembered(self: SecretBlock, *args: Any, **kwargs: Any) -> Any:
        value = get(self, *args, **kwargs)
        remember_read(value)
        return value

    remembered._remembers = True  # type: ignore[attr-defined]
    return remembered


class ObjectStorageBlock(Block):
    """Object storage addressed by relative paths ('folder/file.csv') under a base location.

    Implementations refuse paths that would escape their base (`../`).
    """

    _capabilities = ("read-path", "write-path", "list-objects")

    @abstractmethod
    def read_path(self, path: str) -> bytes:
        """Return the content of the object at path."""

    @abstractmethod
    def write_path(self, path: str, content: bytes) -> str:
        """Write content to path (creating folders as needed); return the path written."""

    @abstractmethod
    def list_objects(self, folder: str = "") -> list[str]:
        """Paths of the objects under folder, relative to the base, sorted."""

    @abstractmethod
    def upload_from_path(self, from_path: str | Path, to_path: str | None = None) -> str:
        """Copy a local file to the storage; return the object path."""

    @abstractmethod
    def download_object_to_path(self, from_path: str, to_path: str | Path) -> Path:
        """Copy an object to a local file; return the local path."""

    @abstractmethod
    def upload_from_file_object(self, from_file_object: BinaryIO, to_path: str) -> str:
        """Stream a binary file object to the storage; return the object path."""

    @abstractmethod
    def download_object_to_file_object(self, from_path: str, to_file_object: BinaryIO) -> BinaryIO:
        """Stream an object into a binary file object; return it."""

    @abstractmethod
    def upload_from_folder(self, from_folder: str | Path, to_folder: str | None = None) -> str:
        """Copy a local folder tree, keeping relative paths; return the target folder."""

    @abstractmethod
    def download_folder_to_path(self, from_folder: str, to_folder: str | Path) -> Path:
        """Copy every object under from_folder to a local folder, keeping relative paths."""
