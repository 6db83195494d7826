"""Posting to WebSocket connections through API Gateway's management API (``@connections``)."""

from __future__ import annotations

from typing import Any

from cloutagent.adapters.dynamo.table import error_code



class ApiGatewayConnections:
    def __init__(self, client: Any):
        self.client = client

    def post(self, connection_id: str, text: str) -> bool:
        """Send one frame; False when the connection is gone.

        Throttling (LimitExceeded, 429, 5xx) is retried by botocore's standard retry mode, with
        the client's own attempt budget (``adapters.aws``); a retry here would multiply it.
        """
        try:
            self.client.post_to_connection(ConnectionId=connection_id, Data=text.encode("utf-8"))
            return True
        except Exception as exc:
            if error_code(exc) in ("GoneException", "ForbiddenException"):
                return False
            raise

    def disconnect(self, connection_id: str) -> None:
        try:
            self.client.delete_connection(ConnectionId=connection_id)
        except Exception as exc:
            if error_code(exc) != "GoneException":
                raise
