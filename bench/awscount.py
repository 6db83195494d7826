"""Counting AWS calls in-process (botocore `before-call` hooks), as tests/integration does."""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from typing import Any, Iterator

from bench.stack import REPO_ROOT

LAYER = REPO_ROOT / "layers/cloutagent/python/cloutagent"
NOT_SHIPPED = ("local", "cli", "client")
_SCAN = re.compile(r"\.scan\s*\(|[\"']Scan[\"']")


class AwsCallCounter:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, model=None, **kwargs: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@contextlib.contextmanager
def counting(container: Any, *services: str) -> Iterator[AwsCallCounter]:
    """Every call through the container's shared clients (DynamoDB by default, plus @connections)."""
    counter = AwsCallCounter()
    clients = [container.clients.client(s) for s in services or ("dynamodb",)] + [container.clients.connections_api()]
    for client in clients:
        client.meta.events.register("before-call", counter)
    try:
        yield counter
    finally:
        for client in clients:
            client.meta.events.unregister("before-call", counter)


def scans_in_source() -> list[str]:
    """Where shipped code (functions/, the layer minus local/ cli/ client/) could call Scan: by design, nowhere."""
    files = list((REPO_ROOT / "functions").rglob("*.py")) + [
        p for p in LAYER.rglob("*.py") if p.relative_to(LAYER).parts[0] not in NOT_SHIPPED]
    return [f"{p.relative_to(REPO_ROOT)}:{n}" for p in files
            for n, line in enumerate(p.read_text().splitlines(), 1) if _SCAN.search(line)]
