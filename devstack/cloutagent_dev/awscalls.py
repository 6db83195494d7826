"""Counting AWS calls in-process (botocore ``before-call`` hooks): the call budgets in
tests/integration and ``make bench`` both use this one counter."""

from __future__ import annotations

import contextlib
from collections import Counter
from typing import Any, Iterator


class AwsCallCounter:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, model: Any = None, **kwargs: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@contextlib.contextmanager
def counting(container: Any, *services: str) -> Iterator[AwsCallCounter]:
    """Every call through the container's shared clients (DynamoDB by default, plus @connections)."""
    counter = AwsCallCounter()
    clients = [container.clients.client(s) for s in services or ("dynamodb",)] + [container.clients.connections_api()]
    # the client the container's table was built with, too: it stays the table's after the shared
    # clients are made again (apply_environment, a test's own settings), and every store uses it
    table = container.__dict__.get("table")
    if table is not None and all(table.client is not c for c in clients):
        clients.append(table.client)
    for client in clients:
        client.meta.events.register("before-call", counter)
    try:
        yield counter
    finally:
        for client in clients:
            client.meta.events.unregister("before-call", counter)
