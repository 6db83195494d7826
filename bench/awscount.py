"""Counting AWS calls in-process (botocore `before-call` hooks), as tests/integration does."""

from __future__ import annotations

import re

from bench.stack import REPO_ROOT
from cloutagent_dev.awscalls import AwsCallCounter, counting  # noqa: F401  (re-exported for bench)

LAYER = REPO_ROOT / "layers/cloutagent/python/cloutagent"
_SCAN = re.compile(r"\.scan\s*\(|[\"']Scan[\"']")


def scans_in_source() -> list[str]:
    """Where shipped code (functions/ and the layer) could call Scan: by design, nowhere."""
    files = list((REPO_ROOT / "functions").rglob("*.py")) + list(LAYER.rglob("*.py"))
    return [f"{p.relative_to(REPO_ROOT)}:{n}" for p in files
            for n, line in enumerate(p.read_text().splitlines(), 1) if _SCAN.search(line)]
