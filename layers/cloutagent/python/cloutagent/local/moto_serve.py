"""moto's server, with every request applied atomically.

Real DynamoDB applies each request (a TransactWriteItems above all) atomically; moto's threaded
server does not, so two conditional transactions can both pass their conditions. Serializing
request handling restores the guarantee our state machine relies on, at no real cost: moto is
bound by the GIL anyway.
"""

from __future__ import annotations

import argparse
import os
import threading
from typing import Any, Iterable

from moto.moto_server.threaded_moto_server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, run_simple


def copy_each_table_once_per_transaction() -> None:
    """moto backs up the whole table once per *operation* of a transaction (100 full copies for a
    99-event batch); rollback only needs one copy per table. With requests serialized, a per-call
    cache of table copies keeps moto's semantics and removes the quadratic cost."""
    import copy as real_copy

    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models.table import Table

    original = dynamodb_models.DynamoDBBackend.transact_write_items

    class _CopyOnce:
        def __init__(self) -> None:
            self.tables: dict[int, Table] = {}

        def deepcopy(self, obj: Any, memo: Any = None) -> Any:
            if isinstance(obj, Table):
                if id(obj) not in self.tables:
                    self.tables[id(obj)] = real_copy.deepcopy(obj)
                return self.tables[id(obj)]
            return real_copy.deepcopy(obj, memo)

        def __getattr__(self, name: str) -> Any:
            return getattr(real_copy, name)

    def transact_write_items(self: Any, transact_items: list) -> None:
        dynamodb_models.copy = _CopyOnce()
        try:
            return original(self, transact_items)
        finally:
            dynamodb_models.copy = real_copy

    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items


def honour_client_request_tokens() -> None:
    """DynamoDB answers a TransactWriteItems retried with the same ClientRequestToken (botocore
    sets one and reuses it across its retries) with success, without applying it again, for 10
    minutes. moto ignores the token, so a retry after a timed-out success fails its conditions."""
    import hashlib
    import json
    import time

    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.transact_write_items
    succeeded: dict[str, tuple[float, str, Any]] = {}

    def transact_write_items(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        digest = hashlib.sha256(json.dumps(self.body.get("TransactItems"), sort_keys=True).encode()).hexdigest()
        now = time.monotonic()
        for stale in [t for t, (at, _, _) in succeeded.items() if now - at > 600]:
            del succeeded[stale]
        if token and token in succeeded and succeeded[token][1] == digest:
            return succeeded[token][2]
        result = original(self)
        if token:
            succeeded[token] = (now, digest, result)
        return result

    DynamoHandler.transact_write_items = transact_write_items


class AtomicApp:
    def __init__(self, app: Any):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Any) -> Iterable[bytes]:
        with self.lock:
            return list(self.app(environ, start_response))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    copy_each_table_once_per_transaction()
    honour_client_request_tokens()
    app = DomainDispatcherApplication(create_backend_app)
    WSGIRequestHandler.protocol_version = "HTTP/1.1"  # keep-alive, as boto3 expects
    run_simple(args.host, args.port, AtomicApp(app), threaded=True)


if __name__ == "__main__":
    main()
