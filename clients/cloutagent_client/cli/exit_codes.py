"""The CLI's exit codes (documented in docs/clients.md), and which error gets which."""

from __future__ import annotations

from cloutagent_client import errors

OK = 0
FAILED = 1        # the run ended other than "completed", or the service refused for another reason
USAGE = 2         # bad arguments, an invalid request, an ambiguous project name
AUTH = 3          # not logged in, credentials refused, role too low
NOT_FOUND = 4     # no such project, secret, execution, …
UNAVAILABLE = 5   # cannot connect, connection lost, no reply in time
STILL_RUNNING = 6  # `wait`: the run had not finished when --max-wait ran out (it goes on)
INTERRUPTED = 130  # Ctrl-C outside a run (a cancelled run exits 1)

_BY_ERROR: dict[type[errors.CloutagentError], int] = {
    errors.BadRequest: USAGE, errors.InvalidPath: USAGE, errors.MessageTooLarge: USAGE,
    errors.Unauthorized: AUTH, errors.Forbidden: AUTH,
    errors.ProjectNotFound: NOT_FOUND, errors.NotFound: NOT_FOUND,
    errors.ConnectionFailed: UNAVAILABLE, errors.ConnectionLost: UNAVAILABLE, errors.RequestTimeout: UNAVAILABLE,
    errors.WaitTimeout: STILL_RUNNING,
}


def for_error(exc: errors.CloutagentError) -> int:
    for cls, code in _BY_ERROR.items():
        if isinstance(exc, cls):
            return code
    return FAILED


def for_run_status(status: str) -> int:
    return OK if status == "completed" else FAILED
