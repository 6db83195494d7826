"""Where the CLI connects and as whom: flags, then the config file, then a local stack.

The config file (``~/.config/cloutagent/config.json``, mode 0600) holds one of
``{"url", "apiKey"}``, ``{"url", "token", "refreshToken", "expiresAt", "clientId", "region"}``
(a Cognito sign-in), or ``{"readyFile"}`` (the local stack, whose key changes on every start).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from cloutagent_client.errors import CloutagentError, ConnectionFailed, Unauthorized
from cloutagent_client.options import Credentials

DEFAULT_CONFIG = Path.home() / ".config" / "cloutagent" / "config.json"
DEFAULT_READY_FILE = Path(".cloutagent") / "ready.json"


class NotLoggedIn(Unauthorized):
    pass


@dataclass
class Target:
    url: str
    credentials: Callable[[], Credentials]
    source: str  # for messages: where the URL came from


def load_config(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise CloutagentError(f"{path} is not valid JSON: {exc}", code="BAD_CONFIG") from exc


def save_config(path: Path, config: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(config, indent=2))
    os.chmod(tmp, 0o600)  # it holds credentials
    tmp.replace(path)


def read_ready_file(path: Path) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise ConnectionFailed(f"No local stack: {path} not found (start one with `make dev`)") from exc


def _fixed(credentials: Credentials) -> Callable[[], Credentials]:
    return lambda: credentials


def _from_flags(args: Any) -> Credentials | None:
    if getattr(args, "token", None) or getattr(args, "api_key", None):
        return Credentials(token=args.token, api_key=None if args.token else args.api_key)
    return None


def _local(path: Path, args: Any) -> Target:
    ready = read_ready_file(path)
    credentials = _from_flags(args) or Credentials(api_key=ready["apiKey"])
    return Target(ready["wsUrl"], _fixed(credentials), f"the local stack ({path})")


def resolve_target(args: Any) -> Target:
    """Flags beat the config file; a ready file in the working directory is the last resort."""
    config_path = Path(getattr(args, "config", None) or DEFAULT_CONFIG)
    config = load_config(config_path)
    flagged = _from_flags(args)
    if getattr(args, "url", None):
        if flagged is None and config.get("url") == args.url:
            return _from_config(config, config_path)
        if flagged is None:
            raise NotLoggedIn(f"No credentials for {args.url}: pass --api-key or --token, or run `cloutagent login`")
        return Target(args.url, _fixed(flagged), "--url")
    if getattr(args, "ready_file", None) or getattr(args, "local", False):
        return _local(Path(getattr(args, "ready_file", None) or DEFAULT_READY_FILE), args)
    if config.get("url") or config.get("readyFile"):
        return _from_config(config, config_path)
    if DEFAULT_READY_FILE.exists():
        return _local(DEFAULT_READY_FILE, args)
    raise NotLoggedIn("Not logged in: run `cloutagent login` (or pass --url with --api-key, or --local)")


def _from_config(config: dict[str, Any], path: Path) -> Target:
    if config.get("readyFile"):
        ready = read_ready_file(Path(config["readyFile"]))
        credentials = Credentials(api_key=ready["apiKey"])
        return Target(ready["wsUrl"], _fixed(credentials), f"the local stack ({config['readyFile']})")
    if config.get("apiKey"):
        return Target(config["url"], _fixed(Credentials(api_key=config["apiKey"])), str(path))
    if config.get("token"):
        return Target(config["url"], lambda: _fresh_token(config, path), str(path))
    raise NotLoggedIn(f"{path} has no credentials: run `cloutagent login`")


def _fresh_token(config: dict[str, Any], path: Path) -> Credentials:
    """The saved access token, refreshed through Cognito when it is about to expire."""
    if config.get("refreshToken") and float(config.get("expiresAt") or 0) < time.time() + 60:
        from cloutagent_client.cli.cognito import refresh

        config.update(refresh(config["region"], config["clientId"], config["refreshToken"]))
        save_config(path, config)
    return Credentials(token=config["token"])
