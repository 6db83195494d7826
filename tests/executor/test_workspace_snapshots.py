"""A project's workspace between runs: a snapshot under its tenant's prefix, restored with care."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

from cloutagent_executor.workspace import RunWorkspace, WorkspaceSnapshots, fresh_folder, snapshot_key


def snapshots(s3_client, bucket: str) -> WorkspaceSnapshots:
    return WorkspaceSnapshots(s3_client, bucket, "t_alpha", "p_1")


def test_the_snapshot_key_starts_from_the_tenant():
    assert snapshot_key("t_alpha", "p_1") == "workspaces/t_alpha/p_1.tar.gz"


def test_a_workspace_comes_back_as_it_was_saved(s3_client, sessions_bucket, tmp_path):
    source = tmp_path / "a"
    (source / "src").mkdir(parents=True)
    (source / "src" / "main.py").write_text("print('hi')\n")
    (source / "run.sh").write_text("#!/bin/sh\n")
    (source / "run.sh").chmod(0o755)
    os.symlink("src/main.py", source / "entry")
    snapshots(s3_client, sessions_bucket).save(source)

    target = tmp_path / "b"
    target.mkdir()
    assert snapshots(s3_client, sessions_bucket).restore(target) is True
    assert (target / "src" / "main.py").read_text() == "print('hi')\n"
    assert os.access(target / "run.sh", os.X_OK)
    assert os.readlink(target / "entry") == "src/main.py"


def test_a_project_without_a_snapshot_starts_empty(s3_client, sessions_bucket, tmp_path):
    assert snapshots(s3_client, sessions_bucket).restore(tmp_path) is False
    assert list(tmp_path.iterdir()) == []


def test_members_pointing_outside_the_workspace_are_skipped_not_fatal(s3_client, sessions_bucket, tmp_path):
    # GIVEN a snapshot an agent shaped: an absolute link, a path climbing out, and a good file
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, kind, target in (("leak", tarfile.SYMTYPE, "/etc/passwd"), ("../escape.txt", tarfile.REGTYPE, ""),
                                   ("ok.txt", tarfile.REGTYPE, "")):
            member = tarfile.TarInfo(name)
            member.type, member.linkname = kind, target
            data = b"data" if kind == tarfile.REGTYPE else b""
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data) if data else None)
    s3_client.put_object(Bucket=sessions_bucket, Key=snapshot_key("t_alpha", "p_1"), Body=archive.getvalue())
    # WHEN it is restored
    target = tmp_path / "w"
    target.mkdir()
    snapshots(s3_client, sessions_bucket).restore(target)
    # THEN only the good file came back, and nothing was written outside
    assert sorted(p.name for p in target.iterdir()) == ["ok.txt"]
    assert not (tmp_path / "escape.txt").exists()


def test_a_run_folder_starts_empty_and_is_gone_once_saved(s3_client, sessions_bucket, tmp_path):
    left = tmp_path / "t_alpha" / "demo"
    left.mkdir(parents=True)
    (left / "left-by-a-killed-run").write_text("x")
    folder = fresh_folder(str(tmp_path), "t_alpha", "demo")
    assert folder == left and list(folder.iterdir()) == []
    (folder / "work.txt").write_text("done")
    workspace = RunWorkspace(folder, snapshots(s3_client, sessions_bucket))
    assert workspace.close() is None and not folder.exists()
    assert snapshots(s3_client, sessions_bucket).restore(tmp_path) is True
    assert (tmp_path / "work.txt").read_text() == "done"


def test_a_snapshot_that_cannot_be_saved_is_reported(tmp_path):
    class Unreachable:
        def upload_fileobj(self, *args, **kwargs):
            raise ConnectionError("S3 is down")

    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "f").write_text("x")
    error = RunWorkspace(folder, WorkspaceSnapshots(Unreachable(), "b", "t", "p")).close()
    assert error and "could not be saved" in error and not folder.exists()
