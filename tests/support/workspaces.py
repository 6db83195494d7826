"""What a project's workspace holds between runs: its snapshot in the stack's S3 (moto)."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import boto3

from cloutagent_executor.workspace import snapshot_key


def s3(ready: dict[str, Any]) -> Any:
    return boto3.client("s3", endpoint_url=ready["awsEndpointUrl"], region_name=ready["region"],
                        aws_access_key_id="local", aws_secret_access_key="local")


def snapshot_files(ready: dict[str, Any], tenant_id: str, project_id: str) -> dict[str, bytes]:
    """Every regular file of the project's snapshot, by path; {} when it has none."""
    bucket = ready["sessionsBucket"]
    try:
        body = s3(ready).get_object(Bucket=bucket, Key=snapshot_key(tenant_id, project_id))["Body"].read()
    except s3(ready).exceptions.NoSuchKey:
        return {}
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
