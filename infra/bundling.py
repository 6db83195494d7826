"""Builds the third-party dependencies layer with pip on the synth machine, never in Docker.

pip downloads wheels for the Lambda platform (Linux, arm64, CPython 3.12) whatever machine runs
synth, so the layer is the same from a Mac laptop or a CI runner. Only binary wheels are accepted:
a source build would compile for the synth machine, not for Lambda. What it installs is a hashed
lock (requirements/*.lock, infra/locks.py), never pyproject's ranges: two deploys of one commit
ship the same files, and pip refuses any file whose hash the lock does not name.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import ILocalBundling


# Lambda's Python 3.12 runtime is Amazon Linux 2023 (glibc 2.34): every manylinux tag up to 2_34 runs.
LAMBDA_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
PLACEHOLDER = "DEPENDENCIES_NOT_BUNDLED.txt"


@jsii.implements(ILocalBundling)
class PipInstall:
    """``ILocalBundling`` that pip-installs requirements into ``python/`` (the layer layout)."""

    def __init__(self, *, lock: Path, python_version: str, enabled: bool) -> None:
        self._lock = lock
        self._python_version = python_version
        self._enabled = enabled

    @property
    def fingerprint(self) -> str:
        """Asset hash: changes with the lock's content, the target platform and the mode.

        Including the mode matters: CDK reuses an existing ``asset.<hash>`` directory, so a
        placeholder built by a test must never share a hash with the real layer.
        """
        lock = hashlib.sha256(self._lock.read_bytes()).hexdigest()
        material = [lock, self._python_version, LAMBDA_PLATFORMS, self._enabled]
        return hashlib.sha256(json.dumps(material).encode()).hexdigest()

    def try_bundle(self, output_dir: str, options: Any = None) -> bool:
        target = Path(output_dir) / "python"
        target.mkdir(parents=True, exist_ok=True)
        if not self._enabled:
            (target / PLACEHOLDER).write_text(
                "Synthesized with -c bundleDependencies=false: this layer has no dependencies. Do not deploy it.\n"
            )
            return True
        result = subprocess.run(self.command(target), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            # Raising (rather than returning False) stops CDK from falling back to Docker bundling.
            raise RuntimeError(f"pip could not build the dependencies layer:\n{result.stderr}")
        return True

    def command(self, target: Path) -> list[str]:
        """pip, installing exactly the lock: every file checked against its hash, nothing resolved."""
        return [
            sys.executable, "-m", "pip", "install",
            "--quiet", "--disable-pip-version-check", "--no-compile",
            "--require-hashes", "--no-deps", "-r", str(self._lock),
            "--target", str(target),
            "--implementation", "cp",
            "--python-version", self._python_version,
            "--only-binary=:all:",
            *(arg for platform in LAMBDA_PLATFORMS for arg in ("--platform", platform)),
        ]
