"""``cloutagent projects list|create|update|delete`` and ``whoami``."""

from __future__ import annotations

from typing import Any

from cloutagent_client.cli import exit_codes
from cloutagent_client.cli.output import Output, shown
from cloutagent_client import BadRequest, Client

_COLUMNS = [("ID", "projectId"), ("NAME", "name"), ("STATE", "state"), ("PATH", "path"), ("LAST SEQ", "lastSeq")]
# --repo… flag (argparse dest) → field of the project's repository
_REPO_FLAGS = {"repo": "url", "repo_branch": "defaultBranch", "repo_token_secret": "tokenSecret",
               "repo_provider": "provider", "pull_request": "pullRequest"}
_UNCHANGED = object()


async def whoami(client: Client, args: Any, out: Output) -> int:
    me = await client.whoami()
    out.result(me, f"{me['userId']} ({me['role']}) in tenant {me['tenantId']} via {me['authType']} at {client.url}")
    return exit_codes.OK


async def list_projects(client: Client, args: Any, out: Output) -> int:
    out.table(await client.list_projects(), _COLUMNS)
    return exit_codes.OK


def repository(args: Any, current: dict[str, Any] | None = None) -> Any:
    """The ``repository`` the --repo… flags ask for, on top of the ``current`` one (the wire replaces
    it whole); ``None`` for --no-repo, ``_UNCHANGED`` without any of them. An empty string clears a field."""
    given = {wire: (value or None) if isinstance(value, str) else value
             for flag, wire in _REPO_FLAGS.items() if (value := getattr(args, flag, None)) is not None}
    if getattr(args, "no_repo", False):
        if given:
            raise BadRequest("--no-repo removes the repository: it takes no other --repo… flag or --pr",
                             {"field": "repository"})
        return None
    if not given:
        return _UNCHANGED
    merged = {**(current or {}), **given}
    if not merged.get("url"):
        raise BadRequest("--repo URL is needed: the project has no repository", {"field": "repository.url"})
    return merged


def _merged(current: dict[str, Any] | None, given: dict[str, Any]) -> dict[str, Any] | None:
    """The wire replaces ``agent`` and ``limits`` whole: keep what the flags do not change."""
    given = {k: v for k, v in given.items() if v is not None}
    return {**(current or {}), **given} if given else None


async def create_project(client: Client, args: Any, out: Output) -> int:
    fields: dict[str, Any] = {"description": args.description or ""}
    if args.path:
        fields["path"] = args.path
    agent = _merged(None, {"model": args.model, "systemPrompt": args.system_prompt})
    limits = _merged(None, {"maxCostUsd": args.max_cost_usd, "maxTokens": args.max_tokens,
                            "timeoutSeconds": args.timeout_seconds})
    if agent:
        fields["agent"] = agent
    if limits:
        fields["limits"] = limits
    repo = repository(args)
    if repo is not _UNCHANGED:
        fields["repository"] = repo
    project = await client.create_project(args.name, **fields)
    out.result(project, project["projectId"])
    return exit_codes.OK


async def update_project(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    fields = {k: v for k, v in {"name": args.name, "description": args.description, "path": args.path}.items()
              if v is not None}
    agent = _merged(project.get("agent"), {"model": args.model, "systemPrompt": args.system_prompt})
    limits = _merged(project.get("limits"), {"maxCostUsd": args.max_cost_usd, "maxTokens": args.max_tokens,
                                             "timeoutSeconds": args.timeout_seconds})
    if agent:
        fields["agent"] = agent
    if limits:
        fields["limits"] = limits
    repo = repository(args, project.get("repository"))
    if repo is not _UNCHANGED:
        fields["repository"] = repo
    updated = await client.update_project(project["projectId"], **fields)
    out.result(updated, f"updated {updated['projectId']} ({shown(updated['name'])})")
    return exit_codes.OK


async def delete_project(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    reply = await client.delete_project(project["projectId"])
    out.result(reply, f"deleted {project['projectId']} ({shown(project['name'])})")
    return exit_codes.OK
