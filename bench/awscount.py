"""Counting AWS calls in-process (botocore `before-call` hooks), as tests/integration does."""

from __future__ import annotations

import re

from bench.stack import REPO_ROOT
from cloutagent.local.awscalls import AwsCallCounter, counting  # noqa: F401  (re-exported for bench)

LAYER = REPO_ROOT / "layers/cloutagent/python/cloutagent"
NOT_SHIPPED = ("local", "cli", "client")
_SCAN = re.compile(r"\.scan\s*\(|[\"']Scan[\"']")


def scans_in_source() -> list[str]:
    """Where shipped code (functions/, the layer minus local/ cli/ client/) could call Scan: by design, nowhere."""
    files = list((REPO_ROOT / "functions").rglob("*.py")) + [
        p for p in LAYER.rglob("*.py") if p.relative_to(LAYER).parts[0] not in NOT_SHIPPED]
    return [f"{p.relative_to(REPO_ROOT)}:{n}" for p in files
            for n, line in enumerate(p.read_text().splitlines(), 1) if _SCAN.search(line)]
