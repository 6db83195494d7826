"""Builds the third-party dependencies layer with pip on the synth machine, never in Docker.

pip downloads wheels for the Lambda platform (Linux, arm64, CPython 3.12) whatever machine runs
synth, so the layer is the same from a Mac laptop or a CI runner. Only binary wheels are accepted:
a source build would compile for the synth machine, not for Lambda.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any, Sequence

import jsii
from aws_cdk import ILocalBundling

from infra.definitions import REPO_ROOT

# Lambda's Python 3.12 runtime is Amazon Linux 2023 (glibc 2.34): every manylinux tag up to 2_34 runs.
LAMBDA_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
PLACEHOLDER = "DEPENDENCIES_NOT_BUNDLED.txt"


def runtime_requirements(pyproject: Path = REPO_ROOT / "pyproject.toml") -> tuple[str, ...]:
    """The run-time dependencies every Lambda needs: pyproject's [project].dependencies, verbatim."""
    with pyproject.open("rb") as fh:
        return tuple(tomllib.load(fh)["project"]["dependencies"])


def group_requirements(group: str, pyproject: Path = REPO_ROOT / "pyproject.toml") -> tuple[str, ...]:
    """A dependency group only some functions need (pyproject's [project.optional-dependencies])."""
    with pyproject.open("rb") as fh:
        return tuple(tomllib.load(fh)["project"]["optional-dependencies"][group])


@jsii.implements(ILocalBundling)
class PipInstall:
    """``ILocalBundling`` that pip-installs requirements into ``python/`` (the layer layout)."""

    def __init__(self, *, requirements: Sequence[str], python_version: str, enabled: bool) -> None:
        self._requirements = tuple(requirements)
        self._python_version = python_version
        self._enabled = enabled

    @property
    def fingerprint(self) -> str:
        """Asset hash: changes with the requirement list, the target platform and the mode.

        Including the mode matters: CDK reuses an existing ``asset.<hash>`` directory, so a
        placeholder built by a test must never share a hash with the real layer.
        """
        material = [self._requirements, self._python_version, LAMBDA_PLATFORMS, self._enabled]
        return hashlib.sha256(json.dumps(material).encode()).hexdigest()

    def try_bundle(self, output_dir: str, options: Any = None) -> bool:
        target = Path(output_dir) / "python"
        target.mkdir(parents=True, exist_ok=True)
        if not self._enabled:
            (target / PLACEHOLDER).write_text(
                "Synthesized with -c bundleDependencies=false: this layer has no dependencies. Do not deploy it.\n"
            )
            return True
        command = [
            sys.executable, "-m", "pip", "install",
            "--quiet", "--disable-pip-version-check", "--no-compile",
            "--target", str(target),
            "--implementation", "cp",
            "--python-version", self._python_version,
            "--only-binary=:all:",
            *(arg for platform in LAMBDA_PLATFORMS for arg in ("--platform", platform)),
            *self._requirements,
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            # Raising (rather than returning False) stops CDK from falling back to Docker bundling.
            raise RuntimeError(f"pip could not build the dependencies layer:\n{result.stderr}")
        return True
