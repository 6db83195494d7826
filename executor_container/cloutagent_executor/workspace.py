"""A run's private workspace: restored from its project's snapshot, saved back when the run ends.

No file system is shared between runs, projects or tenants. A run works in a folder of its own
task's storage (a fresh Fargate task in AWS; locally a folder that is emptied before and removed
after the run), filled from ``workspaces/<tenantId>/<projectId>.tar.gz`` in the sessions bucket
and written back there when the run ends, whatever its outcome. The key starts from the tenant,
and the executor's AWS session can reach only its own tenant's prefix.

What the agent left is untrusted: a restore extracts with tarfile's ``data`` filter and skips
(rather than fails on) any member it refuses, such as a link pointing outside the workspace, so
one bad file cannot wreck every later run of the project.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from cloutagent.observability import logger

PREFIX = "workspaces/"


def snapshot_key(tenant_id: str, project_id: str) -> str:
    return f"{PREFIX}{tenant_id}/{project_id}.tar.gz"


def folder_path(root: str, tenant_id: str, project_path: str) -> Path:
    """Where a project's runs work. The path is stable per project because Claude Code keys its
    sessions by the working directory; what makes it private is that nothing else lives in it
    or outlives the run."""
    return Path(root) / tenant_id / project_path


def fresh_folder(root: str, tenant_id: str, project_path: str) -> Path:
    """The run's folder, empty: nothing a killed earlier run left behind survives into this one."""
    folder = folder_path(root, tenant_id, project_path)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _keep_safe(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    try:
        return tarfile.data_filter(member, dest)
    except tarfile.FilterError as refused:
        logger.warning("workspace snapshot member skipped", extra={"member": member.name, "reason": type(refused).__name__})
        return None


class WorkspaceSnapshots:
    """One project's snapshot in S3 (the executor's tenant-scoped client)."""

    def __init__(self, s3: Any, bucket: str, tenant_id: str, project_id: str):
        self.s3, self.bucket = s3, bucket
        self.key = snapshot_key(tenant_id, project_id)

    def restore(self, into: Path) -> bool:
        """Fill ``into`` from the snapshot; False when the project has none yet."""
        if not self._exists():
            return False
        with tempfile.TemporaryFile() as archive:
            self.s3.download_fileobj(self.bucket, self.key, archive)
            archive.seek(0)
            with tarfile.open(fileobj=archive, mode="r:gz") as tar:
                tar.extractall(into, filter=_keep_safe)  # nosec B202 - every member passes the data filter
        return True

    def _exists(self) -> bool:
        # A listing, not a HEAD: without an unconditioned s3:ListBucket (which would let a tenant
        # list every tenant's keys) S3 answers a missing object with 403, not 404.
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=self.key, MaxKeys=1)
        return any(item["Key"] == self.key for item in listed.get("Contents", []))

    def save(self, folder: Path) -> int:
        """Write ``folder`` back as the project's snapshot; returns the archive's size in bytes."""
        with tempfile.TemporaryFile() as archive:
            with tarfile.open(fileobj=archive, mode="w:gz", compresslevel=6) as tar:
                # Links are stored as links, never followed: a link to /etc stays a link.
                for child in sorted(folder.iterdir()):
                    tar.add(child, arcname=child.name)
            size = archive.tell()
            archive.seek(0)
            self.s3.upload_fileobj(archive, self.bucket, self.key)
        return size


class RunWorkspace:
    """The folder one run works in, and what becomes of it before and after."""

    def __init__(self, folder: Path, snapshots: WorkspaceSnapshots | None):
        self.folder, self.snapshots = folder, snapshots

    def open(self) -> None:
        restored = bool(self.snapshots) and self.snapshots.restore(self.folder)
        logger.info("workspace ready", extra={"restored": restored})

    def close(self) -> str | None:
        """Save the folder as the project's snapshot and remove it; the error to report, if any."""
        try:
            if self.snapshots is not None:
                size = self.snapshots.save(self.folder)
                logger.info("workspace saved", extra={"bytes": size})
            return None
        except Exception:
            logger.exception("workspace could not be saved")
            return "The run's files could not be saved; the project's workspace is as it was before this run"
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
