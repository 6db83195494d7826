"""cdk.json's app command synthesizes the stack the way the CDK CLI runs it, without Docker."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from infra.app import cdk_json_context
from infra.constructs.executions import DOCKERFILE
from infra.definitions import REPO_ROOT
from tests.infra.synthesis import write_placeholder_functions

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def cli_synth(tmp_path_factory, definitions) -> Path:
    """Run cdk.json's "app" from the repository root with the CLI's environment contract."""
    if not (REPO_ROOT / DOCKERFILE).is_file():
        pytest.skip(f"{DOCKERFILE} not written yet: the image-asset path cannot be staged")
    outdir = tmp_path_factory.mktemp("cli-cdk.out")
    functions_root = write_placeholder_functions(tmp_path_factory.mktemp("cli-functions"), definitions)
    # cdk.json as-is (executor image built from the Dockerfile), minus the pip download.
    context = {**cdk_json_context(), "bundleDependencies": False, "functionsRoot": str(functions_root)}
    command = shlex.split(json.loads((REPO_ROOT / "cdk.json").read_text())["app"])
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(context),
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        # What a machine without a Docker engine looks like to anything that would try to use it.
        "DOCKER_HOST": "unix:///nonexistent/docker.sock",
    }
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=110)
    assert result.returncode == 0, result.stderr[-4000:]
    return outdir


def test_the_app_command_writes_the_stack_template(cli_synth):
    stage = cdk_json_context()["stage"]
    template = json.loads((cli_synth / f"cloutagent-{stage}.template.json").read_text())
    assert template["Resources"]


def test_the_executor_image_is_staged_for_arm64_with_only_its_build_inputs(cli_synth):
    stage = cdk_json_context()["stage"]
    manifest = json.loads((cli_synth / f"cloutagent-{stage}.assets.json").read_text())
    (image,) = manifest["dockerImages"].values()
    assert image["source"]["dockerFile"] == DOCKERFILE
    assert image["source"]["platform"] == "linux/arm64"

    context = cli_synth / image["source"]["directory"]
    staged = {p.name for p in context.iterdir()}
    assert {"executor_container", "layers", "pyproject.toml"} <= staged
    assert not staged & {".venv", ".git", "tests", "infra", "functions", "cdk.out", "node_modules"}
    assert (context / DOCKERFILE).is_file()
    # the lock the Dockerfile installs from (--require-hashes), and no other
    assert {p.name for p in (context / "requirements").iterdir()} == {"executor.lock"}
