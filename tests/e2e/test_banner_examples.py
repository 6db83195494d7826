"""The commands `make dev` prints work when pasted into a shell."""

from __future__ import annotations

import json
import shlex
import subprocess

import pytest

from cloutagent_dev.stack import banner, rest_example

pytestmark = pytest.mark.e2e


def test_the_banner_s_curl_example_creates_a_project(ready):
    command = rest_example(ready)
    assert command in banner(ready)
    shown = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=30, check=True)
    project = json.loads(shown.stdout)["project"]
    assert project["name"] == "from curl" and project["state"] == "idle"
