"""``cloutagent login`` / ``logout``: remember where to connect and as whom."""

from __future__ import annotations

import asyncio
import getpass
import sys
from pathlib import Path
from typing import Any

from cloutagent_client.cli import exit_codes
from cloutagent_client.cli.config import (DEFAULT_READY_FILE, Target, config_path, profile_name, read_ready_file,
                                          save_profile)
from cloutagent_client.cli.output import Output
from cloutagent_client import BadRequest, Client, ClientOptions, CloutagentError, Credentials, RestClient


async def _verify(url: str, credentials: Credentials, timeout: float) -> dict[str, Any]:
    async with Client(url, credentials=lambda: credentials, options=ClientOptions(request_timeout=timeout)) as client:
        return await client.whoami()


def _config_for(args: Any) -> tuple[dict[str, Any], Target]:
    auto_local = args.local or (not args.url and DEFAULT_READY_FILE.exists())
    local_ready = args.ready_file or (DEFAULT_READY_FILE if auto_local else None)
    if local_ready:
        ready = read_ready_file(Path(local_ready))
        credentials = Credentials(api_key=ready["apiKey"])
        return {"readyFile": str(Path(local_ready).resolve())}, Target(ready["wsUrl"], lambda: credentials, "local")
    if not args.url:
        raise BadRequest("Where to? Pass --url wss://… (or --local for the local stack)")
    if args.with_token:
        secret = sys.stdin.readline().strip()
        if not secret:
            raise BadRequest("--with-token reads an API key (cla_…) or an access token from stdin; it was empty")
        api_key, token = (secret, None) if secret.startswith("cla_") else (None, secret)
    else:
        api_key, token = args.api_key, args.token
    if api_key or token:
        credentials = Credentials(api_key=api_key) if api_key else Credentials(token=token)
        key = {"apiKey": api_key} if api_key else {"token": token}
        return {"url": args.url, **key}, Target(args.url, lambda: credentials, "--url")
    return _cognito(args)


def _cognito(args: Any) -> tuple[dict[str, Any], Target]:
    from cloutagent_client.cli.cognito import region_of, sign_in

    region = args.region or region_of(args.url)
    if not (args.username and args.client_id and region):
        raise BadRequest("A Cognito sign-in needs --username, --client-id and --region "
                         "(or use --api-key / --token)")
    password = args.password if args.password is not None else getpass.getpass(f"Password for {args.username}: ")
    tokens = sign_in(region, args.client_id, args.username, password)
    credentials = Credentials(token=tokens["token"])
    config = {"url": args.url, "region": region, "clientId": args.client_id, "username": args.username, **tokens}
    return config, Target(args.url, lambda: credentials, "cognito")


def login(args: Any) -> int:
    out = Output(args.json)
    try:
        config, target = _config_for(args)
        me = asyncio.run(_verify(target.url, target.credentials(), args.timeout))
        if getattr(args, "api_url", None):  # the REST API (run --no-wait, wait): checked to answer, then kept
            config["apiUrl"] = args.api_url.rstrip("/")
            RestClient(config["apiUrl"], timeout=args.timeout).health()
    except CloutagentError as exc:
        out.error(exc)
        return exit_codes.for_error(exc)
    path, name = config_path(args), profile_name(args)
    save_profile(path, name, config)
    out.result({"url": target.url, "profile": name, **me},
               f"Logged in to {target.url} as {me['userId']} ({me['role']}) in tenant {me['tenantId']}. "
               f"Saved as profile {name!r} in {path}")
    return exit_codes.OK


def logout(args: Any) -> int:
    path, name = config_path(args), profile_name(args)
    save_profile(path, name, None)
    Output(args.json).result({"loggedOut": True, "profile": name}, f"Logged out (removed profile {name!r} from {path})")
    return exit_codes.OK
