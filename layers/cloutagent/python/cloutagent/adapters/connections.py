"""Posting to WebSocket connections through API Gateway's management API (``@connections``)."""

from __future__ import annotations

import random
import time
from typing import Any

from cloutagent.adapters.dynamo.table import error_code

_RETRYABLE = {"LimitExceededException", "ThrottlingException", "TooManyRequestsException", "InternalServerErrorException"}
MAX_POST_ATTEMPTS = 4


class ApiGatewayConnections:
    def __init__(self, client: Any):
        self.client = client

    def post(self, connection_id: str, text: str) -> bool:
        """Send one frame; False when the connection is gone. Throttling is retried with backoff."""
        for attempt in range(MAX_POST_ATTEMPTS):
            try:
                self.client.post_to_connection(ConnectionId=connection_id, Data=text.encode("utf-8"))
                return True
            except Exception as exc:
                code = error_code(exc)
                if code in ("GoneException", "ForbiddenException"):
                    return False
                if code not in _RETRYABLE or attempt == MAX_POST_ATTEMPTS - 1:
                    raise
                time.sleep(min(0.05 * 2**attempt, 0.5) * (0.5 + random.random()))
        return False

    def disconnect(self, connection_id: str) -> None:
        try:
            self.client.delete_connection(ConnectionId=connection_id)
        except Exception as exc:
            if error_code(exc) != "GoneException":
                raise
