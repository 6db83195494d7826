"""Where the CLI connects and as whom: flags, then the environment, then a saved profile, then
a local stack.

Flags (``--url``, ``--api-key``, ``--token``) beat ``CLOUTAGENT_URL``, ``CLOUTAGENT_API_KEY`` and
``CLOUTAGENT_TOKEN``, which beat the profile (``--profile`` or ``CLOUTAGENT_PROFILE``, default
``default``) saved in ``$XDG_CONFIG_HOME/cloutagent/config.json`` (``~/.config/...`` without it;
created with mode 0600, atomically). A profile is one of ``{"url", "apiKey"}``,
``{"url", "token"}``, ``{"url", "token", "refreshToken", "expiresAt", "clientId", "region"}`` (a
Cognito sign-in) or ``{"readyFile"}`` (the local stack, whose key changes on every start); any of the
first three may add ``apiUrl``, the REST API's base URL (``rest_url``). A file from before profiles
(one login at its top level) reads as the ``default`` profile.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from cloutagent_client.errors import BadRequest, CloutagentError, ConnectionFailed, Unauthorized
from cloutagent_client.options import Credentials

DEFAULT_READY_FILE = Path(".cloutagent") / "ready.json"
DEFAULT_PROFILE = "default"


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cloutagent" / "config.json"


class NotLoggedIn(Unauthorized):
    pass


@dataclass
class Target:
    url: str
    credentials: Callable[[], Credentials]
    source: str  # for messages: where the URL came from
    api_url: str | None = None  # the REST API's base URL, when the profile or the local stack knows it


def config_path(args: Any) -> Path:
    return Path(getattr(args, "config", None) or default_config_path())


def profile_name(args: Any) -> str:
    return getattr(args, "profile", None) or os.environ.get("CLOUTAGENT_PROFILE") or DEFAULT_PROFILE


def load_config(path: Path) -> dict[str, Any]:
    """The whole file as ``{"profiles": {name: profile}}``."""
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return {"profiles": {}}
    except ValueError as exc:
        raise CloutagentError(f"{path} is not valid JSON: {exc}", code="BAD_CONFIG") from exc
    if not isinstance(raw, dict):
        raise CloutagentError(f"{path} is not a JSON object", code="BAD_CONFIG")
    if "profiles" not in raw:  # one login at the top level: the file before profiles
        return {"profiles": {DEFAULT_PROFILE: raw} if raw else {}}
    return raw


def load_profile(path: Path, name: str) -> dict[str, Any]:
    return dict(load_config(path)["profiles"].get(name) or {})


def save_profile(path: Path, name: str, profile: dict[str, Any] | None) -> None:
    """Write (or, with None, remove) one profile; the others stay."""
    config = load_config(path)
    if profile is None:
        config["profiles"].pop(name, None)
    else:
        config["profiles"][name] = profile
    save_config(path, config)


def save_config(path: Path, config: dict[str, Any]) -> None:
    """Atomically, and readable by its owner only from the first byte (it holds credentials)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, tmp = tempfile.mkstemp(prefix=".config-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(descriptor, "w") as handle:
            json.dump(config, handle, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_ready_file(path: Path) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise ConnectionFailed(f"No local stack: {path} not found (start one with `make dev`)") from exc


def _fixed(credentials: Credentials) -> Callable[[], Credentials]:
    return lambda: credentials


def _given(args: Any) -> tuple[Credentials | None, str]:
    """Credentials from the flags, else from the environment, and which."""
    if getattr(args, "token", None) or getattr(args, "api_key", None):
        return Credentials(token=args.token, api_key=None if args.token else args.api_key), "flags"
    token, api_key = os.environ.get("CLOUTAGENT_TOKEN"), os.environ.get("CLOUTAGENT_API_KEY")
    if token or api_key:
        return Credentials(token=token, api_key=None if token else api_key), "the environment"
    return None, ""


def _local(path: Path, args: Any) -> Target:
    ready = read_ready_file(path)
    credentials = _given(args)[0] or Credentials(api_key=ready["apiKey"])
    return Target(ready["wsUrl"], _fixed(credentials), f"the local stack ({path})", ready.get("httpUrl"))


def resolve_target(args: Any) -> Target:
    """Flags beat the environment, which beats the saved profile; a ready file in the working
    directory is the last resort."""
    if getattr(args, "ready_file", None) or getattr(args, "local", False):
        return _local(Path(getattr(args, "ready_file", None) or DEFAULT_READY_FILE), args)
    path, name = config_path(args), profile_name(args)
    profile = load_profile(path, name)
    given, given_by = _given(args)
    url = getattr(args, "url", None) or os.environ.get("CLOUTAGENT_URL")
    if url:
        source = "--url" if getattr(args, "url", None) else "CLOUTAGENT_URL"
        if given is not None:
            return Target(url, _fixed(given), f"{source}, credentials from {given_by}")
        if profile.get("url") == url:
            return _from_profile(profile, path, name)
        raise NotLoggedIn(f"No credentials for {url}: set CLOUTAGENT_API_KEY (or CLOUTAGENT_TOKEN), "
                          "or run `cloutagent login`")
    if profile:
        if given is not None and profile.get("url"):
            return Target(profile["url"], _fixed(given), f"profile {name!r}, credentials from {given_by}",
                          profile.get("apiUrl"))
        return _from_profile(profile, path, name)
    if DEFAULT_READY_FILE.exists():
        return _local(DEFAULT_READY_FILE, args)
    raise NotLoggedIn("Not logged in: run `cloutagent login`, or set CLOUTAGENT_URL and CLOUTAGENT_API_KEY"
                      + (f" (no profile {name!r} in {path})" if name != DEFAULT_PROFILE else ""))


def rest_url(args: Any, target: Target) -> str:
    """The REST API's base URL, with the same precedence: ``--api-url``, else ``CLOUTAGENT_API_URL``,
    else the target's (the profile's ``apiUrl``, the local stack's ``httpUrl``). A local ``ws://`` URL
    gives its own host; in AWS the HTTP API is another host, which only the stack's ``ApiUrl`` names."""
    url = getattr(args, "api_url", None) or os.environ.get("CLOUTAGENT_API_URL") or target.api_url
    if url:
        return str(url).rstrip("/")
    if target.url.startswith("ws://"):
        return f"http://{urlsplit(target.url).netloc}"
    raise BadRequest(f"No REST API URL for {target.url}: pass --api-url https://… or set CLOUTAGENT_API_URL (the "
                     "stack's ApiUrl output), or save it with `cloutagent login --url … --api-url …`",
                     {"field": "apiUrl"})


def _from_profile(profile: dict[str, Any], path: Path, name: str) -> Target:
    if profile.get("readyFile"):
        ready = read_ready_file(Path(profile["readyFile"]))
        credentials = Credentials(api_key=ready["apiKey"])
        return Target(ready["wsUrl"], _fixed(credentials), f"the local stack ({profile['readyFile']})",
                      ready.get("httpUrl"))
    if profile.get("apiKey"):
        return Target(profile["url"], _fixed(Credentials(api_key=profile["apiKey"])), f"profile {name!r}",
                      profile.get("apiUrl"))
    if profile.get("token"):
        return Target(profile["url"], lambda: _fresh_token(profile, path, name), f"profile {name!r}",
                      profile.get("apiUrl"))
    raise NotLoggedIn(f"Profile {name!r} in {path} has no credentials: run `cloutagent login`")


def _fresh_token(profile: dict[str, Any], path: Path, name: str) -> Credentials:
    """The saved access token, refreshed through Cognito when it is about to expire."""
    if profile.get("refreshToken") and float(profile.get("expiresAt") or 0) < time.time() + 60:
        from cloutagent_client.cli.cognito import refresh

        profile.update(refresh(profile["region"], profile["clientId"], profile["refreshToken"]))
        save_profile(path, name, profile)
    return Credentials(token=profile["token"])
