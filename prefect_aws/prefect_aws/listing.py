"""S3Object: one entry of S3Bucket.list_objects, both a path and S3's description of it."""

from __future__ import annotations

from collections.abc import ItemsView, KeysView, Mapping, ValuesView
from typing import Any


class S3Object(str):
    """A listed object: its path relative to the bucket folder, which every storage block's
    `list_objects` returns and the block's other methods take back, and also S3's
    description of it, read as Prefect's `list_objects` returns it: `obj["Key"]` (the full
    key, bucket folder included), `obj["Size"]`, `obj["LastModified"]`, `obj["ETag"]`;
    a sub-folder listed with a delimiter has `obj["Prefix"]`.

        >>> obj = S3Object("b.csv", {"Key": "exports/b.csv", "Size": 3})
        >>> obj, obj["Key"], obj["Size"], dict(obj)["Size"]
        ('b.csv', 'exports/b.csv', 3, 3)

    Indexing with a number or slice is str's (`obj[0]`); `in` is str's too: use
    `"Size" in obj.keys()` to ask whether S3 gave a field.
    """

    _info: dict[str, Any]

    def __new__(cls, path: str, info: Mapping[str, Any]) -> S3Object:
        obj = super().__new__(cls, path)
        obj._info = dict(info)
        return obj

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            try:
                return self._info[key]
            except KeyError:
                raise KeyError(f"S3 gave no {key!r} for {str(self)!r}; it has "
                               f"{', '.join(self._info) or 'nothing'}.") from None
        return str.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        """S3's field `key`, or `default`."""
        return self._info.get(key, default)

    def keys(self) -> KeysView[str]:
        return self._info.keys()

    def values(self) -> ValuesView[Any]:
        return self._info.values()

    def items(self) -> ItemsView[str, Any]:
        return self._info.items()

    def __reduce__(self) -> tuple[Any, ...]:
        return S3Object, (str(self), self._info)
