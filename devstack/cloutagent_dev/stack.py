"""``cloutagent dev``: start moto, provision it, serve the gateway, write the ready file."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloutagent_client
from aiohttp import ClientSession, web

from cloutagent import definitions, heap
from cloutagent_dev.billing import LocalBilling
from cloutagent_dev.claude import ClaudeBackend, start_claude_backend
from cloutagent_dev.gateway import GatewayLimits, LocalGateway
from cloutagent_dev.git_server import GitServer
from cloutagent_dev.http_api import LocalHttpApi
from cloutagent_dev.lambdas import Invoker
from cloutagent_dev.launcher import LocalLauncher, install_local_container
from cloutagent_dev.moto import MotoServer
from cloutagent_dev.streams import StreamPoller
from cloutagent_dev.scheduler import LocalScheduler

DEV_EMAIL = "dev@cloutagent.local"
CONSOLE_DIR = Path(cloutagent_client.__file__).with_name("console")  # static files, no build step


@dataclass
class DevOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    ready_file: str | None = None
    idle_seconds: float = 600.0
    lifetime_seconds: float = 7200.0
    workspace_root: str = ".cloutagent/workspaces"
    quiet: bool = False
    executor_pool: int = 0  # idle pool executors waiting for a claim; 0: every run cold-starts its own


def apply_environment(values: dict[str, str]) -> None:
    """Play the part of Lambda's environment: set variables, then drop cached settings/clients."""
    from cloutagent.adapters.aws import reset_clients
    from cloutagent.settings import reset_settings
    from cloutagent.wiring import reset_container

    os.environ.update(values)
    reset_settings()
    reset_clients()
    reset_container()


def join_environment(ready: dict[str, Any]) -> dict[str, str]:
    """The environment a handler needs to run in another process against a running stack
    (``cloutagent invoke``, the integration tests): the same values the stack's own handlers see."""
    return {
        **definitions.function_environment(),
        "AWS_ENDPOINT_URL": ready["awsEndpointUrl"], "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": ready["region"], "CLOUTAGENT_TABLE_NAME": ready["tableName"],
        "CLOUTAGENT_CONNECTIONS_URL": ready["httpUrl"], "CLOUTAGENT_USER_POOL_ID": ready["userPoolId"],
        "CLOUTAGENT_USER_POOL_CLIENT_ID": ready["userPoolClientId"],
        "CLOUTAGENT_JWKS_URL": f"{ready['awsEndpointUrl']}/{ready['userPoolId']}/.well-known/jwks.json",
        "CLOUTAGENT_SCHEDULE_GROUP": ready.get("scheduleGroup", ""),
        "CLOUTAGENT_SCHEDULED_RUN_ARN": ready.get("scheduledRunArn", ""),
        "CLOUTAGENT_SCHEDULER_ROLE_ARN": ready.get("schedulerRoleArn", ""),
    }


class LocalStack:
    def __init__(self, options: DevOptions):
        self.options = options
        self.moto = MotoServer()
        self.invoker = Invoker()
        self.gateway = LocalGateway(self.invoker, limits=GatewayLimits(options.idle_seconds, options.lifetime_seconds))
        self.runner: web.AppRunner | None = None
        self.ready: dict[str, Any] = {}
        self.billing = LocalBilling(self.invoker, options.host)
        self.claude: ClaudeBackend | None = None
        self.streams: StreamPoller | None = None  # the table stream's consumers (the notifier)
        self.scheduler = LocalScheduler(self.invoker)  # EventBridge Scheduler's part: fires moto's schedules
        # Repositories live beside the workspaces, in the stack's state directory.
        self.git = GitServer(Path(options.workspace_root).resolve().parent / "repos")
        self.launcher: LocalLauncher | None = None

    async def start(self) -> dict[str, Any]:
        self.moto.start()
        apply_environment({
            **definitions.function_environment(),
            "AWS_ENDPOINT_URL": self.moto.url, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "CLOUTAGENT_STAGE": "local",
            "POWERTOOLS_METRICS_NAMESPACE": "cloutagent", "POWERTOOLS_DEV": os.environ.get("POWERTOOLS_DEV", "false"),
            # Metrics are recorded on the same code path, but not printed as EMF lines locally.
            "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
        })
        self.gateway.extra_http.append(("POST", "/local/users", self.http_create_user))
        self.gateway.extra_http.extend(LocalHttpApi(self.invoker).routes())  # REST v1 and webhooks
        self.gateway.extra_http.append(("GET", "/local/console.json", self.http_console_config))
        self.gateway.extra_http.extend(self.scheduler.routes())  # PUT /local/scheduler: the pace of its clock
        self.gateway.extra_http.append(("GET", "/local/limits", http_limits))  # PUT: scale the rate limits
        self.gateway.extra_http.append(("PUT", "/local/limits", http_limits))
        self.gateway.extra_http.append(("GET", "/local/model/requests", self.http_model_requests))
        self.gateway.extra_http.append(("DELETE", "/local/model/requests", self.http_model_requests))
        self.gateway.extra_http.append(("GET", "/console/{name:.+}", console_asset))  # vendor/ too
        self.gateway.extra_http.extend(self.git.routes())
        app = self.gateway.build_app(index=console_index)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.options.host, self.options.port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # the real port when --port 0
        http_url = f"http://{self.options.host}:{port}"
        self.gateway.domain = f"{self.options.host}:{port}"
        self.git.base_url = http_url
        await self.billing.start(http_url)
        self.claude = await asyncio.get_running_loop().run_in_executor(None, start_claude_backend)
        await asyncio.get_running_loop().run_in_executor(None, self._provision, http_url)
        self.ready = await asyncio.get_running_loop().run_in_executor(None, self._ready_info, http_url)
        self.billing.start_reporter()
        await self._start_streams()
        self.scheduler.start(self.resources.schedule_group)
        self._write_ready_file()
        return self.ready

    def _provision(self, http_url: str) -> None:
        from cloutagent.adapters import aws
        from cloutagent.adapters.claims import SqsClaimQueue
        from cloutagent_dev.provision import provision

        resources = self.resources = provision(aws)
        stripe_env = self.billing.provision(aws)
        workspace = Path(self.options.workspace_root).resolve()
        workspace.mkdir(parents=True, exist_ok=True)
        apply_environment({
            "CLOUTAGENT_TABLE_NAME": resources.table_name,
            "CLOUTAGENT_CONNECTIONS_URL": http_url,
            "CLOUTAGENT_HTTP_API_URL": http_url,  # webhook receivers (Git host triggers give it out)
            "CLOUTAGENT_USER_POOL_ID": resources.user_pool_id,
            "CLOUTAGENT_USER_POOL_CLIENT_ID": resources.user_pool_client_id,
            "CLOUTAGENT_JWKS_URL": f"{self.moto.url}/{resources.user_pool_id}/.well-known/jwks.json",
            "CLOUTAGENT_KMS_KEY_ID": resources.kms_key_id,
            "CLOUTAGENT_SESSIONS_BUCKET": resources.sessions_bucket,
            "CLOUTAGENT_TENANT_ROLE_ARN": resources.tenant_role_arn,
            "CLOUTAGENT_ALLOW_LOOPBACK_REPOSITORIES": "true",  # the stack's own Git server
            "CLOUTAGENT_ALLOW_LOOPBACK_WEBHOOKS": "true",  # webhook receivers on this machine
            "CLOUTAGENT_WORKSPACE_ROOT": str(workspace),
            "CLOUTAGENT_CLAIM_QUEUE_URL": resources.claim_queue_url,  # what pool executors long-poll
            "CLOUTAGENT_SCHEDULE_GROUP": resources.schedule_group,
            "CLOUTAGENT_SCHEDULED_RUN_ARN": resources.scheduled_run_arn,
            "CLOUTAGENT_SCHEDULER_ROLE_ARN": resources.scheduler_role_arn,
            **stripe_env,
        })
        claims = SqsClaimQueue(aws.client("sqs"), resources.claim_queue_url)
        container = install_local_container(workspace.parent, self.claude.executor_env,
                                            pool_size=self.options.executor_pool, claims=claims)
        self.launcher = container.launcher
        self.launcher.start_pool()

    async def _start_streams(self) -> None:
        from cloutagent.adapters import aws

        self.streams = StreamPoller(self.invoker, aws.client("dynamodbstreams"), self.resources.table_name)
        await self.streams.start(aws.dynamodb())

    def _ready_info(self, http_url: str) -> dict[str, Any]:
        from cloutagent_dev.users import create_local_user
        from cloutagent.wiring import get_container

        container = get_container()
        dev = create_local_user(container, DEV_EMAIL)
        # The shared dev tenant gets the top plan by hand, so trying things out hits no limits;
        # tenants from POST /local/users start on the free plan, as in AWS.
        container.billing_store.grant_plan(dev["tenantId"], "enterprise")
        settings = container.settings
        return {
            "wsUrl": http_url.replace("http://", "ws://", 1),
            "httpUrl": http_url,
            "tenantId": dev["tenantId"], "userId": dev["userId"], "token": dev["token"], "apiKey": dev["apiKey"],
            "awsEndpointUrl": self.moto.url, "tableName": settings.table_name,
            "userPoolId": settings.user_pool_id, "userPoolClientId": settings.user_pool_client_id,
            "region": settings.region, "sessionsBucket": self.resources.sessions_bucket,
            "tenantRoleArn": self.resources.tenant_role_arn,
            "scheduleGroup": self.resources.schedule_group, "scheduledRunArn": self.resources.scheduled_run_arn,
            "schedulerRoleArn": self.resources.scheduler_role_arn,
            **self.billing.ready_info(),
            "claude": self.claude.description, "modelUrl": self.claude.model_url,
            "isolation": self.claude.isolation, "executorPool": self.options.executor_pool,
        }

    def _write_ready_file(self) -> None:
        if not self.options.ready_file:
            return
        path = Path(self.options.ready_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.ready, indent=2))
        tmp.replace(path)  # readers never see a half-written file

    async def http_create_user(self, request: web.Request) -> web.Response:
        from cloutagent_dev.users import create_local_user
        from cloutagent.wiring import get_container

        try:
            body = await request.json()
            email = str(body["email"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "send {\"email\": ..., \"tenantId\"?: ..., \"role\"?: ...}"}, status=400)
        if body.get("role") not in (None, "owner", "admin", "member", "viewer"):
            return web.json_response({"error": "role must be owner, admin, member or viewer"}, status=400)
        plan = body.get("plan")
        if plan is not None and (body.get("tenantId") or plan not in definitions.plans()["plans"]):
            return web.json_response({"error": "plan names one of plans.json's plans, for a new tenant only"},
                                     status=400)
        try:
            user = await asyncio.get_running_loop().run_in_executor(
                None, create_local_user, get_container(), email, body.get("tenantId"), body.get("role"))
            if plan is not None:  # by hand, as the dev tenant's (planSource: operator)
                await asyncio.get_running_loop().run_in_executor(
                    None, get_container().billing_store.grant_plan, user["tenantId"], plan)
        except Exception as exc:  # a dev-only endpoint: say what went wrong
            return web.json_response({"error": type(exc).__name__, "message": str(exc)[:300]}, status=400)
        return web.json_response({"wsUrl": self.ready["wsUrl"], "httpUrl": self.ready["httpUrl"], **user})

    async def http_console_config(self, request: web.Request) -> web.Response:
        """Dev-only: where the console connects, and the dev API key. Refused to other sites' pages."""
        origin = request.headers.get("Origin")
        if (origin and origin != f"{request.scheme}://{request.host}") or request.url.host not in LOCAL_HOSTS:
            return web.json_response({"error": "the console config is served to the local console only"}, status=403)
        return web.json_response({"wsUrl": self.ready["wsUrl"], "apiKey": self.ready["apiKey"], "local": True},
                                 headers={"Cache-Control": "no-store"})

    async def http_model_requests(self, request: web.Request) -> web.Response:
        """What the scripted model was asked (``DELETE`` forgets it): proxied from the model's own port."""
        if not (self.claude and self.claude.model_url):
            return web.json_response({"error": "runs use the real Claude API; there is no scripted model"}, status=404)
        async with ClientSession() as session:
            async with session.request(request.method, f"{self.claude.model_url}/local/model/requests") as reply:
                return web.Response(body=await reply.read(), status=reply.status, content_type="application/json")

    async def stop(self) -> None:
        if self.options.ready_file:  # a stack that is gone leaves no file saying where it was
            Path(self.options.ready_file).unlink(missing_ok=True)
        if self.launcher:
            await asyncio.get_running_loop().run_in_executor(None, self.launcher.close)
        if self.claude:
            self.claude.stop()
        await self.billing.stop()
        if self.streams:
            await self.streams.stop()
        await self.scheduler.stop()
        if self.runner:
            await self.runner.cleanup()
        self.moto.stop()


ISOLATION_NOTES = {
    "bubblewrap": "bubblewrap: each run sees only its workspace and reaches only its model gateway",
    "user": "agent uid (as on Fargate): runs cannot read the stack's processes or files, but can reach its "
            "services on this machine (install bubblewrap and socat for full isolation)",
    "none": "NONE: runs can read this machine's files and reach its services (install bubblewrap and socat)",
}
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")  # a DNS-rebound name never reads the dev key


def pool_note(size: int) -> str:
    if not size:
        return "a fresh process per run (--executor-pool N keeps N warm)"
    return f"{size} warm in a pool, each claims one run and is replaced"


async def console_index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(CONSOLE_DIR / "index.html", headers={"Cache-Control": "no-cache"})


async def console_asset(request: web.Request) -> web.StreamResponse:
    # A subpath (console/vendor/) is served too, but never a part starting with "." (so no "..")
    # and never a file that resolves outside the console directory (a symlink).
    parts = request.match_info["name"].split("/")
    path = CONSOLE_DIR.joinpath(*parts)
    if (any(not part or part.startswith(".") or "\\" in part for part in parts)
            or path.suffix not in (".js", ".mjs", ".css", ".html", ".svg") or not path.is_file()
            or not path.resolve().is_relative_to(CONSOLE_DIR.resolve())):
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Cache-Control": "no-cache"})


async def http_limits(request: web.Request) -> web.Response:
    """``PUT /local/limits {"rateLimitScale": 0.2}``: scale every plan's request rate limits, as the
    ``CLOUTAGENT_RATE_LIMIT_SCALE`` setting does in AWS. One laptop processes far fewer requests a
    second than Lambda, so a test can only exceed a limit that is scaled down. Loopback only."""
    from cloutagent.settings import get_settings, reset_settings

    if request.remote not in ("127.0.0.1", "::1"):
        return web.json_response({"error": "the stack's knobs are for this machine only"}, status=403)
    if request.method == "PUT":
        try:
            scale = float((await request.json())["rateLimitScale"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": 'send {"rateLimitScale": <number>}'}, status=400)
        if not 0 < scale <= 10:
            return web.json_response({"error": "rateLimitScale must be above 0 and at most 10"}, status=400)
        os.environ["CLOUTAGENT_RATE_LIMIT_SCALE"] = str(scale)
        reset_settings()
    return web.json_response({"rateLimitScale": get_settings().rate_limit_scale})


def rest_example(ready: dict[str, Any]) -> str:
    """A curl command that works as printed: create a project over the REST API with the dev key."""
    return (f"curl -s -H 'X-API-Key: {ready['apiKey']}' -X POST {ready['httpUrl']}/v1/projects "
            "-d '{\"name\": \"from curl\"}'")


def banner(ready: dict[str, Any]) -> str:
    return "\n".join([
        "",
        "  cloutagent local stack is up",
        f"    web console     {ready['httpUrl']}/   (signs you in as the dev user)",
        f"    WebSocket API   {ready['wsUrl']}   (?token=... or ?apiKey=...)",
        f"    REST API        {ready['httpUrl']}/v1   (X-API-Key; the routes: GET /v1/openapi.json)",
        f"    HTTP            {ready['httpUrl']}   (@connections API, POST /local/users)",
        f"    AWS (moto)      {ready['awsEndpointUrl']}",
        f"    dev tenant      {ready['tenantId']}  (you are its owner)",
        f"    dev API key     {ready['apiKey']}",
        f"    Claude          {ready['claude']}",
        *([f"    model requests  GET {ready['httpUrl']}/local/model/requests"] if ready.get("modelUrl") else []),
        f"    isolation       {ISOLATION_NOTES.get(ready['isolation'], ready['isolation'])}",
        f"    executors       {pool_note(ready.get('executorPool', 0))}",
        f"    Stripe          {ready['stripe']}   (webhook: POST {ready['httpUrl']}/stripe/webhook)",
        f"    Git repos       curl -X POST {ready['httpUrl']}/local/repos -d '{{\"name\":\"demo\"}}'",
        "",
        "  try:  .venv/bin/cloutagent projects create demo && .venv/bin/cloutagent run demo \"Have a look around\"",
        f"   or:  {rest_example(ready)}",
        f"   or:  .venv/bin/python -m websockets '{ready['wsUrl']}/?apiKey={ready['apiKey']}'",
        "  Ctrl-C stops everything.",
        "",
    ])


async def serve(options: DevOptions) -> None:
    stack = LocalStack(options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        ready = await stack.start()
        heap.settle(collect=2)  # the handlers, clients and gateway serve until the stack stops; provisioning did not
        if not options.quiet:
            print(banner(ready), flush=True)
        await stop.wait()
    finally:
        await stack.stop()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (less CPU per message for the gateway), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(options: DevOptions) -> int:
    try:
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(serve(options))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"cloutagent dev: {exc}", file=sys.stderr)
        return 1
    return 0
