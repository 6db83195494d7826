"""The one error hierarchy. Each error has a stable machine code that clients may rely on.

Errors become wire frames in exactly one place (``cloutagent.gateway.app``); the message of a
``ServiceError`` is written for the user, so it may reach a client, while anything else that is
raised is logged and answered as ``INTERNAL`` with no detail.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    code = "INTERNAL"
    default_message = "Internal error"

    def __init__(self, message: str | None = None, details: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)


class BadRequest(ServiceError):
    code = "BAD_REQUEST"
    default_message = "The request is not valid"


class UnknownAction(ServiceError):
    code = "UNKNOWN_ACTION"
    default_message = "Unknown action"


class Unauthorized(ServiceError):
    code = "UNAUTHORIZED"
    default_message = "Not authenticated"


class Forbidden(ServiceError):
    code = "FORBIDDEN"
    default_message = "Your role does not allow this action"


class ProjectNotFound(ServiceError):
    code = "PROJECT_NOT_FOUND"
    default_message = "Project not found"


class NotFound(ServiceError):
    code = "NOT_FOUND"
    default_message = "Not found"


class ProjectBusy(ServiceError):
    code = "PROJECT_BUSY"
    default_message = "The project has a running execution"


class InvalidPath(ServiceError):
    code = "INVALID_PATH"
    default_message = "Invalid workspace path"


class Conflict(ServiceError):
    code = "CONFLICT"
    default_message = "The request conflicts with the current state"


class LimitExceeded(ServiceError):
    code = "LIMIT_EXCEEDED"
    default_message = "A plan limit was reached"


class PaymentRequired(ServiceError):
    code = "PAYMENT_REQUIRED"
    default_message = "The subscription needs attention before this can be done"


class BillingNotConfigured(ServiceError):
    code = "BILLING_NOT_CONFIGURED"
    default_message = "Billing is not configured on this deployment"


class BillingUnavailable(ServiceError):
    code = "BILLING_UNAVAILABLE"
    default_message = "Stripe cannot be reached right now; nothing was changed. Try again shortly"


class RateLimited(ServiceError):
    code = "RATE_LIMITED"
    default_message = "Too many requests; slow down"


class MessageTooLarge(ServiceError):
    code = "MESSAGE_TOO_LARGE"
    default_message = "The message is too large"


class SecretsUnavailable(ServiceError):
    code = "SECRETS_UNAVAILABLE"
    default_message = "Project secrets cannot be reached right now; nothing was changed. Try again shortly"


class InternalError(ServiceError):
    code = "INTERNAL"
    default_message = "Internal error"


ERROR_CODES = sorted(
    {cls.code for cls in (ServiceError, *ServiceError.__subclasses__())}
)


class SlotsFull(Exception):
    """Internal, never sent: the tenant holds as many open connections as the cap given allows."""


class StaleWrite(Exception):
    """Internal, never sent: the item changed between read and write; re-read and retry."""


# -- internal errors: raised between layers, never sent to a client as such -------------------------
class ExpectationFailed(Exception):
    """A project was not in the state a change required (e.g. not idle): the change was not made."""

    def __init__(self, project_item: dict[str, Any]):
        super().__init__("project state changed")
        self.project_item = project_item
