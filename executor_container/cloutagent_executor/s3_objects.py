"""The few S3 calls S3SessionStore makes. Synchronous: the store runs them in worker threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

# A load reads every part of a transcript; fetching a handful at once keeps resume quick.
_PARALLEL_GETS = 8
_DELETE_BATCH = 1000  # DeleteObjects' limit
_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict"}


class S3Objects:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def list_keys(self, prefix: str, *, direct_only: bool = False) -> list[str]:
        """Keys under a prefix in key order; ``direct_only`` skips deeper "folders"."""
        extra = {"Delimiter": "/"} if direct_only else {}
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=prefix, **extra
        )
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def get(self, key: str) -> tuple[bytes, str] | None:
        """Body and ETag, or None if the object does not exist."""
        try:
            reply = self._client.get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return reply["Body"].read(), reply["ETag"]

    def get_many(self, keys: list[str]) -> list[bytes]:
        """Bodies in the order of ``keys``; a part deleted meanwhile reads as empty."""
        with ThreadPoolExecutor(max_workers=_PARALLEL_GETS) as pool:
            found = list(pool.map(self.get, keys))
        return [item[0] if item else b"" for item in found]

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)

    def put_if_unchanged(self, key: str, body: bytes, etag: str | None) -> bool:
        """Write only if the object still has ``etag`` (None: still absent). False on conflict."""
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            self._client.put_object(Bucket=self._bucket, Key=key, Body=body,
                                    ContentType="application/json", **condition)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _CONFLICT_CODES:
                return False
            raise
        return True

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start:start + _DELETE_BATCH]]
            self._client.delete_objects(Bucket=self._bucket, Delete={"Objects": batch, "Quiet": True})
