"""The SDK's exceptions: one class per wire error code, all under ``CloutagentError``.

Branch on the class (or on ``.code``), never on ``.message``: the codes are the stable contract
(docs/protocol.md, "Error codes"); messages are written for people and may change.
"""

from __future__ import annotations

from typing import Any


class CloutagentError(Exception):
    """Any failure the SDK reports. ``code`` is the wire code, or a client-side one below."""

    code = "INTERNAL"

    def __init__(self, message: str = "", details: dict[str, Any] | None = None, *, code: str | None = None,
                 action: str | None = None):
        self.message = message or type(self).__name__
        self.details = details or {}
        self.action = action
        if code is not None:
            self.code = code
        super().__init__(f"{self.code}: {self.message}")


# -- errors the service sends (type: "error" frames) ------------------------------------------------
class BadRequest(CloutagentError):
    code = "BAD_REQUEST"


class UnknownAction(CloutagentError):
    code = "UNKNOWN_ACTION"


class Unauthorized(CloutagentError):
    code = "UNAUTHORIZED"


class Forbidden(CloutagentError):
    code = "FORBIDDEN"


class ProjectNotFound(CloutagentError):
    code = "PROJECT_NOT_FOUND"


class NotFound(CloutagentError):
    code = "NOT_FOUND"


class ProjectBusy(CloutagentError):
    code = "PROJECT_BUSY"


class InvalidPath(CloutagentError):
    code = "INVALID_PATH"


class Conflict(CloutagentError):
    code = "CONFLICT"


class LimitExceeded(CloutagentError):
    code = "LIMIT_EXCEEDED"


class PaymentRequired(CloutagentError):
    code = "PAYMENT_REQUIRED"


class BillingNotConfigured(CloutagentError):
    code = "BILLING_NOT_CONFIGURED"


class BillingUnavailable(CloutagentError):
    code = "BILLING_UNAVAILABLE"


class RateLimited(CloutagentError):
    code = "RATE_LIMITED"


class MessageTooLarge(CloutagentError):
    code = "MESSAGE_TOO_LARGE"


class SecretsUnavailable(CloutagentError):
    code = "SECRETS_UNAVAILABLE"


class InternalError(CloutagentError):
    code = "INTERNAL"


# -- errors the SDK itself raises ------------------------------------------------------------------
class ConnectionFailed(CloutagentError):
    """The WebSocket could not be opened (network, DNS, a 5xx at the handshake)."""

    code = "CONNECTION_FAILED"


class ConnectionLost(CloutagentError):
    """The connection closed while a request waited for its reply. The request may have run."""

    code = "CONNECTION_LOST"


class RequestTimeout(CloutagentError):
    """No reply within the request timeout. The request may still run."""

    code = "REQUEST_TIMEOUT"


class ClientClosed(CloutagentError):
    code = "CLIENT_CLOSED"


class WaitTimeout(CloutagentError):
    """``RestClient.wait`` gave up before the run finished; the run goes on. ``details``: its
    ``executionId`` and last ``status``."""

    code = "WAIT_TIMEOUT"


WIRE_ERRORS: dict[str, type[CloutagentError]] = {
    cls.code: cls for cls in (
        BadRequest, UnknownAction, Unauthorized, Forbidden, ProjectNotFound, NotFound, ProjectBusy, InvalidPath,
        Conflict, LimitExceeded, PaymentRequired, BillingNotConfigured, BillingUnavailable, RateLimited, MessageTooLarge,
        SecretsUnavailable, InternalError,
    )
}


def error_from_wire(error: dict[str, Any] | None, action: str | None = None) -> CloutagentError:
    """The exception for an ``error`` frame's ``error`` object. A code newer than this SDK still
    raises a ``CloutagentError`` carrying that code."""
    error = error if isinstance(error, dict) else {}
    code = str(error.get("code") or "INTERNAL")
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    cls = WIRE_ERRORS.get(code)
    if cls is None:
        return CloutagentError(str(error.get("message") or code), details, code=code, action=action)
    return cls(str(error.get("message") or ""), details, action=action)


def handshake_error(status: int, body: str = "") -> CloutagentError:
    """The exception for a refused WebSocket handshake (docs/protocol.md, "Handshake outcomes")."""
    if status == 401:
        return Unauthorized("The credentials were refused (missing, expired, revoked or malformed)")
    if status == 403:
        return Forbidden("This identity belongs to no tenant, or the connection was refused")
    if status == 429:
        return LimitExceeded("Too many connections")
    return ConnectionFailed(f"The handshake failed with HTTP {status}" + (f": {body[:200]}" if body else ""))


# Handshake refusals that retrying with the same credentials cannot fix.
FATAL_HANDSHAKE = (Unauthorized, Forbidden)
