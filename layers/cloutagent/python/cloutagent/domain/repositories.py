"""A project's Git repository: where its runs start, and where their work goes.

Only the executor talks to the host, with a token it reads from a project secret named here; the
URL is checked before it is ever stored, so no transport but HTTPS (and, in the dev stack only,
plain HTTP on loopback) can be asked for: no ``ext::``, ``file://`` or ``ssh`` tricks.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote, urlsplit

from pydantic import Field, field_validator

from cloutagent.domain.base import DomainModel
from cloutagent.domain.secrets import SECRET_NAME_PATTERN

Provider = Literal["github", "gitlab", "generic"]
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# git check-ref-format, in short: no leading '-' or '/', no '..', '//', '@{', '\\', control
# characters, spaces, '~^:?*[', no trailing '/', '.' or '.lock'.
BRANCH_PATTERN = re.compile(r"^(?![-/.])(?!.*(\.\.|//|@\{|/\.|\.lock$|[/.]$))[A-Za-z0-9._/+=@-]{1,200}$")
KNOWN_PROVIDERS = {"github.com": "github", "gitlab.com": "gitlab"}


def check_branch(name: str) -> str:
    if not BRANCH_PATTERN.match(name):
        raise ValueError("A branch name is 1-200 characters of letters, digits and ._/+=@- "
                         "and must be valid for git (no '..', no leading '-' or '/', no trailing '/' or '.lock')")
    return name


def check_url(url: str, *, allow_loopback_http: bool = False) -> str:
    """The URL if git may fetch it: https, a host, no credentials, no query; else ValueError."""
    parts = urlsplit(url)
    loopback_http = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if parts.scheme != "https" and not (loopback_http and allow_loopback_http):
        raise ValueError("A repository URL must start with https:// (no ssh://, file:// or ext:: transports)")
    if not parts.hostname:
        raise ValueError("A repository URL needs a host")
    if parts.username or parts.password:
        raise ValueError("Put the access token in a project secret and name it in tokenSecret, not in the URL")
    if parts.query or parts.fragment or not parts.path.strip("/"):
        raise ValueError("A repository URL is https://host/owner/name(.git), without query or fragment")
    if any(ord(c) < 0x21 for c in url):
        raise ValueError("A repository URL cannot contain spaces or control characters")
    return url


class Repository(DomainModel):
    url: str = Field(max_length=2_000)
    default_branch: str | None = Field(default=None, max_length=200)
    token_secret: str | None = Field(default=None, pattern=SECRET_NAME_PATTERN)
    provider: Provider | None = None  # None: from the host (github.com, gitlab.com), else generic
    pull_request: bool = False  # open or update a pull request after each run, unless a run says otherwise

    @field_validator("url")
    @classmethod
    def _https_only(cls, url: str) -> str:
        # Loopback HTTP (the dev stack's Git server) passes here; the service refuses it unless
        # settings allow it (they do only in the dev stack).
        return check_url(url, allow_loopback_http=True)

    @field_validator("default_branch")
    @classmethod
    def _branch(cls, name: str | None) -> str | None:
        return None if name is None else check_branch(name)

    def host_provider(self) -> Provider:
        if self.provider:
            return self.provider
        host = (urlsplit(self.url).hostname or "").lower()
        return KNOWN_PROVIDERS.get(host, "generic")  # type: ignore[return-value]


def origin_and_path(repository: Repository) -> tuple[str, str]:
    """``scheme://host[:port]`` and the repository's path on it, without ``.git``."""
    parts = urlsplit(repository.url)
    path = parts.path.strip("/")
    return f"{parts.scheme}://{parts.netloc}", path[:-4] if path.endswith(".git") else path


def github_api(repository: Repository) -> tuple[str, str, str]:
    """API base, owner and name: a GitHub repository is the URL's last two segments (whatever
    prefix the host serves it under, like the dev stack's /git/); ``api.github.com`` for
    github.com, ``/api/v3`` on any other host (GitHub Enterprise's convention, the dev stack's)."""
    origin, path = origin_and_path(repository)
    owner, _, name = path.rpartition("/")
    owner = owner.rpartition("/")[2]
    base = "https://api.github.com" if urlsplit(origin).hostname == "github.com" else f"{origin}/api/v3"
    return base, owner, name


def gitlab_project_api(repository: Repository) -> str:
    """The project's API URL on GitLab: the whole path (groups nest), URL-encoded, under ``/api/v4``."""
    origin, path = origin_and_path(repository)
    return f"{origin}/api/v4/projects/{quote(path, safe='')}"


def host_repo_name(repository: Repository) -> str:
    """The repository as its host names it in webhooks: ``owner/name`` (GitHub), the full path (GitLab)."""
    if repository.host_provider() == "github":
        _, owner, name = github_api(repository)
        return f"{owner}/{name}"
    return origin_and_path(repository)[1]


def run_branch(execution_id: str) -> str:
    """Where a run's work goes when it was not given a branch."""
    return f"cloutagent/{execution_id}"
