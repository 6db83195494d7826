"""Runs' diffs in S3 (``diffs/<tenantId>/<executionId>.diff``, written by the executor), read in ranges."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

DIFFS_PREFIX = "diffs/"


def diff_key(tenant_id: str, execution_id: str) -> str:
    return f"{DIFFS_PREFIX}{tenant_id}/{execution_id}.diff"


class S3Diffs:
    def __init__(self, client: Any, bucket: str):
        self.client, self.bucket = client, bucket

    def read(self, tenant_id: str, execution_id: str, offset: int, size: int) -> tuple[bytes, int] | None:
        """``size`` bytes from ``offset`` and the diff's whole length; None when there is no diff."""
        if not self.bucket:
            return None
        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=diff_key(tenant_id, execution_id),
                                           Range=f"bytes={offset}-{offset + size - 1}")
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404"):
                return None
            if code == "InvalidRange":  # the offset is at (or past) the end
                return b"", offset
            raise
        total = int(reply["ContentRange"].rsplit("/", 1)[1])
        return reply["Body"].read(), total
