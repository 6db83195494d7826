"""The cloutagent Python SDK: an async WebSocket client that survives the network.

    from cloutagent_client import Client

    async with Client("wss://…", api_key="cla_…") as client:
        project = await client.create_project("demo")
        async with await client.subscribe(project["projectId"]) as events:
            await client.execute(project["projectId"], "Say hello")
            async for event in events:
                if event["event"] == "execution.finished":
                    break

Code that is not async uses ``SyncClient``, the same client with the same methods. See docs/clients.md.
A CI job that starts a run and comes back for its outcome uses ``RestClient`` (the REST API, no WebSocket).
"""

from cloutagent_client.client import Client
from cloutagent_client.errors import (
    BadRequest, BillingNotConfigured, BillingUnavailable, ClientClosed, CloutagentError, Conflict, ConnectionFailed,
    ConnectionLost, Forbidden, InternalError, InvalidPath, LimitExceeded, MessageTooLarge, NotFound, PaymentRequired, ProjectBusy,
    ProjectNotFound, RateLimited, RequestTimeout, SecretsUnavailable, Unauthorized, UnknownAction, error_from_wire,
)
from cloutagent_client.errors import WaitTimeout
from cloutagent_client.options import ClientOptions, Credentials
from cloutagent_client.rest import FINAL_STATUSES, RestClient
from cloutagent_client.steering import Decision, PermissionRequest, PermissionResolved, Question, Scope
from cloutagent_client.subscriptions import Subscription
from cloutagent_client.sync import SyncClient, SyncSubscription

__all__ = [
    "Client", "ClientOptions", "Credentials", "Subscription", "SyncClient", "SyncSubscription", "error_from_wire",
    "Decision", "Scope", "PermissionRequest", "PermissionResolved", "Question",
    "CloutagentError", "BadRequest", "UnknownAction", "Unauthorized", "Forbidden", "ProjectNotFound", "NotFound",
    "ProjectBusy", "InvalidPath", "Conflict", "LimitExceeded", "PaymentRequired", "BillingNotConfigured",
    "BillingUnavailable",    "RateLimited", "MessageTooLarge", "SecretsUnavailable", "InternalError",
    "ConnectionFailed", "ConnectionLost", "RequestTimeout", "ClientClosed",
    "RestClient", "FINAL_STATUSES", "WaitTimeout",
]
