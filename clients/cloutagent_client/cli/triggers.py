"""``cloutagent trigger set|get|delete``: comments on a project's GitHub or GitLab repository that start runs."""

from __future__ import annotations

from typing import Any

from cloutagent_client import Client
from cloutagent_client.cli import exit_codes
from cloutagent_client.cli.output import Output, shown


async def set_trigger(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    reply = await client.set_trigger(project["projectId"], args.provider, word=args.word,
                                     trust_org_members=args.org_members, trusted_logins=args.trust or None)
    host = "GitHub" if args.provider == "github" else "GitLab"
    out.result(reply, "\n".join([
        f"{shown(reply['trigger']['word'])} in a trusted comment on {shown(project['name'])}'s repository starts a run.",
        f"Add a webhook on {host} (comment events, JSON) with:",
        f"  URL     {reply['url']}",
        f"  secret  {reply['secret']}   (shown this once)",
    ]))
    return exit_codes.OK


async def get_trigger(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    trigger, url = await client.get_trigger(project["projectId"])
    if trigger is None:
        out.result({"projectId": project["projectId"], "trigger": None, "url": None},
                   f"{shown(project['name'])} has no trigger")
        return exit_codes.OK
    trusted = [*(["org members and collaborators"] if trigger["trustOrgMembers"] and trigger["provider"] == "github"
                 else []), *map(shown, trigger["trustedLogins"])]
    out.result({"projectId": project["projectId"], "trigger": trigger, "url": url}, "\n".join([
        f"{trigger['provider']}: {shown(trigger['word'])} starts a run, for {', '.join(trusted) or 'nobody yet'}",
        f"URL  {url}",
    ]))
    return exit_codes.OK


async def delete_trigger(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    reply = await client.delete_trigger(project["projectId"])
    out.result(reply, f"comments on {shown(project['name'])}'s repository start nothing more")
    return exit_codes.OK
