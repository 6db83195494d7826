"""Shell completion scripts, generated from the parser, checked by the shells themselves."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest


def _script(shell: str) -> str:
    done = subprocess.run([sys.executable, "-m", "cloutagent_client", "completion", shell],
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def _shell(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; .ci/run installs it")
        pytest.skip(f"{name} is not installed here (CI installs it)")
    return found


def test_fish_completes_subcommands_their_verbs_and_options(tmp_path):
    fish = _shell("fish")
    script = tmp_path / "cloutagent.fish"
    script.write_text(_script("fish"))
    assert subprocess.run([fish, "-n", str(script)], capture_output=True).returncode == 0

    def offered(line: str) -> set[str]:
        out = subprocess.run([fish, "-c", f"source {script}; complete -C '{line}'"], capture_output=True, text=True)
        return {row.split("\t")[0] for row in out.stdout.splitlines()}

    assert {"projects", "members", "keys", "run", "completion"} <= offered("cloutagent ")
    assert offered("cloutagent projects ") >= {"list", "create", "update", "delete"}
    assert {"--role"} <= offered("cloutagent keys create --r")


def test_bash_completes_subcommands(tmp_path):
    bash = _shell("bash")
    script = tmp_path / "cloutagent.bash"
    script.write_text(_script("bash"))
    probe = (f"source {script}; COMP_WORDS=(cloutagent mem); COMP_CWORD=1; COMP_LINE='cloutagent mem'; "
             "COMP_POINT=${#COMP_LINE}; _shtab_cloutagent; echo \"${COMPREPLY[@]}\"")
    out = subprocess.run([bash, "-c", probe], capture_output=True, text=True)
    assert out.stdout.split() == ["members"], out.stderr


def test_zsh_accepts_its_script(tmp_path):
    zsh = _shell("zsh")
    script = tmp_path / "_cloutagent"
    script.write_text(_script("zsh"))
    checked = subprocess.run([zsh, "-n", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "members" in script.read_text() and "--profile" in script.read_text()
