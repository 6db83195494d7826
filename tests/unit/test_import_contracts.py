"""The layering rules in pyproject's [tool.importlinter] hold, and they bite when broken."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {
    "cloutagent": REPO / "layers/cloutagent/python/cloutagent",
    "cloutagent_executor": REPO / "executor_container/cloutagent_executor",
    "cloutagent_dev": REPO / "devstack/cloutagent_dev",
    "cloutagent_client": REPO / "clients/cloutagent_client",
    "functions": REPO / "functions",
}
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)})


def _copy_tree(tmp_path: Path) -> Path:
    for name, source in PACKAGES.items():
        shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "console"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract(tmp_path):
    result = _lint(_copy_tree(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:]
    assert "broken" not in result.stdout.split("Contracts:")[-1].replace("0 broken", "")


def _broken_by(tmp_path: Path, module: str, line: str) -> str:
    root = _copy_tree(tmp_path)
    target = root / module
    target.write_text(target.read_text() + f"\n{line}\n")
    result = _lint(root)
    assert result.returncode != 0, f"adding {line!r} to {module} broke no contract"
    return result.stdout


def test_the_runtime_importing_the_dev_stack_breaks_a_contract(tmp_path):
    out = _broken_by(tmp_path, "cloutagent/wiring.py", "import cloutagent_dev.launcher  # noqa")
    assert "cloutagent.wiring -> cloutagent_dev.launcher" in out


def test_a_service_importing_an_adapter_breaks_a_contract(tmp_path):
    out = _broken_by(tmp_path, "cloutagent/services/projects.py", "import cloutagent.adapters.dynamo.events  # noqa")
    assert "cloutagent.services.projects -> cloutagent.adapters.dynamo.events" in out


def test_the_domain_importing_the_wire_breaks_a_contract(tmp_path):
    out = _broken_by(tmp_path, "cloutagent/domain/models.py", "import cloutagent.protocol.frames  # noqa")
    assert "cloutagent.domain.models -> cloutagent.protocol.frames" in out


def test_the_clients_importing_the_server_breaks_a_contract(tmp_path):
    out = _broken_by(tmp_path, "cloutagent_client/client.py", "import cloutagent.errors  # noqa")
    assert "cloutagent_client.client -> cloutagent.errors" in out
