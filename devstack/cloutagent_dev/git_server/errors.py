"""Why the local Git server refuses a request. ``routes.py`` alone turns these into HTTP replies."""

from __future__ import annotations


class GitServerError(Exception):
    def __init__(self, message: str, errors: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class InvalidRequest(GitServerError):
    """The body or a name is malformed."""


class RepoNotFound(GitServerError):
    """No such repository (or pull request)."""


class RepoExists(GitServerError):
    """A repository of that name already exists."""


class Unauthorized(GitServerError):
    """No token, or not this repository's token."""


class ValidationFailed(GitServerError):
    """Well-formed, but GitHub would refuse it (unknown branch, duplicate pull request)."""


class GitFailed(GitServerError):
    """A git command failed where it should not have (the details go to the log)."""
