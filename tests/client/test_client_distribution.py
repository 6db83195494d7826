"""The client distribution alone: a fresh virtualenv with only ``./clients`` (and its dependency at
its declared floor) gives a working ``cloutagent`` and SDK, configured from the environment."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def _floors() -> list[str]:
    """Each dependency of clients/pyproject.toml pinned at its lowest allowed version."""
    text = (ROOT / "clients" / "pyproject.toml").read_text()
    declared = re.search(r"^dependencies = \[(.*?)\]", text, re.M | re.S).group(1)
    return [spec.replace(">=", "==") for spec in re.findall(r'"([^"]+)"', declared)]


@pytest.fixture(scope="module")
def client_only(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("client-only")
    venv.EnvBuilder(with_pip=True).create(home / "venv")
    python = home / "venv" / "bin" / "python"
    # from a copy: building in place would leave build/ and egg-info in the source tree
    source = shutil.copytree(ROOT / "clients", home / "clients",
                             ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(source), *_floors()],
                   check=True, capture_output=True, timeout=600)
    return home


def test_the_client_distribution_installs_alone_and_lists_projects_from_environment_credentials(client_only, ready):
    python, cli = client_only / "venv" / "bin" / "python", client_only / "venv" / "bin" / "cloutagent"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUTAGENT_", "PYTHON", "VIRTUAL_ENV"))}
    env.update({"HOME": str(client_only), "XDG_CONFIG_HOME": str(client_only / ".config"),
                "CLOUTAGENT_URL": ready["wsUrl"], "CLOUTAGENT_API_KEY": ready["apiKey"]})
    # nothing of the server came along
    leaked = subprocess.run([str(python), "-c", "import importlib.util as u; print([m for m in "
                             "('cloutagent', 'cloutagent_dev', 'boto3', 'pydantic') if u.find_spec(m)])"],
                            capture_output=True, text=True, env=env, check=True)
    assert leaked.stdout.strip() == "[]"
    listed = subprocess.run([str(cli), "projects", "list", "--json"], capture_output=True, text=True, env=env,
                            cwd=client_only, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert all("projectId" in json.loads(line) for line in listed.stdout.splitlines())
    sdk = subprocess.run([str(python), "-c", "import asyncio, cloutagent_client as c\n"
                          "async def main():\n"
                          "    async with c.Client() as client:\n"
                          "        print((await client.whoami())['tenantId'])\n"
                          "asyncio.run(main())"], capture_output=True, text=True, env=env, timeout=60)
    assert sdk.returncode == 0 and sdk.stdout.strip() == ready["tenantId"], sdk.stderr
    # and the extras a person uses, at their floors too: completion scripts and Markdown on a terminal
    completion = subprocess.run([str(cli), "completion", "bash"], capture_output=True, text=True, env=env, timeout=60)
    assert completion.returncode == 0 and "_shtab_cloutagent" in completion.stdout, completion.stderr
    markdown = subprocess.run([str(python), "-c", "import io\n"
                               "from cloutagent_client.cli.render import TerminalMarkdown\n"
                               "screen = io.StringIO()\n"
                               "TerminalMarkdown(screen).render('# Title\\n\\n- item')\n"
                               "print(screen.getvalue())"], capture_output=True, text=True, env=env, timeout=60)
    assert markdown.returncode == 0 and "Title" in markdown.stdout and "# Title" not in markdown.stdout, markdown.stderr
