"""The client subcommands' arguments: login, whoami, projects, run, diff, logs, steering (approve, deny,
answer, send, interrupt, pending), secrets, schedules, trigger, members, keys, usage."""

from __future__ import annotations

import argparse
from typing import Any, Callable

EPILOG = ("exit codes: 0 ok · 1 run failed, cancelled, timed out or over budget (or refused) · 2 usage error · "
          "3 not logged in or not allowed · 4 not found · 5 cannot reach the service · "
          "6 wait: still running at --max-wait · 130 interrupted")


def add_connection_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Where to connect and how to print. On the main parser with defaults, and again on every
    subcommand without them, so the options work before or after the subcommand."""
    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("connection and output")
    group.add_argument("--url", default=default(None),
                       help="WebSocket URL (wss://…); default: $CLOUTAGENT_URL, then the saved profile")
    group.add_argument("--api-url", default=default(None),
                       help="the REST API's base URL (https://…; the stack's ApiUrl), for run --no-wait, wait, "
                            "events; default: $CLOUTAGENT_API_URL, the profile's, or from a local ws:// URL")
    group.add_argument("--api-key", default=default(None),
                       help="an API key (cla_…); prefer $CLOUTAGENT_API_KEY: flags show in `ps` and shell history")
    group.add_argument("--token", default=default(None), help="a Cognito access token; prefer $CLOUTAGENT_TOKEN")
    group.add_argument("--profile", default=default(None),
                       help="the saved login to use (default: $CLOUTAGENT_PROFILE, then 'default')")
    group.add_argument("--local", action="store_true", default=default(False),
                       help="use the local stack (.cloutagent/ready.json); automatic when that file exists")
    group.add_argument("--ready-file", default=default(None), help="the local stack's ready file")
    group.add_argument("--config", default=default(None),
                       help="config file (default $XDG_CONFIG_HOME/cloutagent/config.json, ~/.config/… without it)")
    group.add_argument("--json", action="store_true", default=default(False), help="JSON lines on stdout, for scripts")
    group.add_argument("--timeout", type=float, default=default(30.0), help="seconds to wait for each reply")


def _leaf(sub: Any, name: str, fn: Callable, help_text: str, **kwargs: Any) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text, description=help_text, epilog=EPILOG, **kwargs)
    add_connection_options(parser, suppress=True)
    parser.set_defaults(client_command=fn)
    return parser


def _limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-cost-usd", type=float, help="stop the run at this cost")
    parser.add_argument("--max-tokens", type=int, help="stop the run at this many tokens")
    parser.add_argument("--timeout-seconds", type=int, help="stop the run after this long")
    parser.add_argument("--model", help="the Claude model")


def _pull_request(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--pr", dest="pull_request", action=argparse.BooleanOptionalAction, default=None,
                        help=help_text)


def _repository(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", metavar="URL", help="the project's Git repository (https://host/owner/name.git)")
    parser.add_argument("--repo-branch", metavar="BRANCH", help="the branch runs start from (default: the repository's)")
    parser.add_argument("--repo-token-secret", metavar="NAME",
                        help="the project secret holding the repository's access token")
    parser.add_argument("--repo-provider", choices=["github", "gitlab", "generic"],
                        help="the host's pull-request API (default: known from the host)")
    _pull_request(parser, "open or update a pull request after each run that changed something")


def _project_fields(parser: argparse.ArgumentParser, path_help: str) -> None:
    parser.add_argument("--description")
    parser.add_argument("--path", help=path_help)
    parser.add_argument("--system-prompt")
    _limits(parser)
    _repository(parser)


def add_client_commands(sub: Any) -> None:
    from cloutagent_client.cli import completion, diff, logs, projects, rest_runs, run, schedules, secrets, steer, usage
    from cloutagent_client.cli.login import login, logout

    log_in = _leaf(sub, "login", None, "remember a deployment (Cognito user/password or API key) or the local stack")
    log_in.set_defaults(fn=login)
    log_in.add_argument("--username", help="Cognito user name (email)")
    log_in.add_argument("--password", help="Cognito password (prompted for when omitted)")
    log_in.add_argument("--with-token", action="store_true",
                        help="read an API key (cla_…) or an access token from stdin, e.g. `… --with-token < key.txt`")
    log_in.add_argument("--client-id", help="the user pool's app client id")
    log_in.add_argument("--region", help="the user pool's region (default: from --url)")
    _leaf(sub, "logout", None, "forget the saved login").set_defaults(fn=logout)
    complete = sub.add_parser("completion", help="print a shell completion script (bash, zsh or fish)",
                              description="print a shell completion script, e.g. "
                                          "`cloutagent completion bash > ~/.local/share/bash-completion/completions/cloutagent`")
    complete.add_argument("shell", choices=["bash", "zsh", "fish"])
    complete.set_defaults(fn=completion.completion)
    _leaf(sub, "whoami", projects.whoami, "who the credentials are, in which tenant")

    group = sub.add_parser("projects", help="list, create, update and delete projects")
    verbs = group.add_subparsers(dest="verb", required=True)
    _leaf(verbs, "list", projects.list_projects, "list the tenant's projects")
    create = _leaf(verbs, "create", projects.create_project, "create a project")
    create.add_argument("name")
    _project_fields(create, "workspace folder (default: from the name)")
    update = _leaf(verbs, "update", projects.update_project,
                   "change a project: what is not given stays (an empty --repo-branch or --repo-token-secret clears it)")
    update.add_argument("project", help="project id or unique name")
    update.add_argument("--name", help="a new name")
    _project_fields(update, "a new workspace folder")
    update.add_argument("--no-repo", action="store_true", help="remove the project's repository")
    delete = _leaf(verbs, "delete", projects.delete_project, "delete a project")
    delete.add_argument("project", help="project id or unique name")

    go = _leaf(sub, "run", run.run, "run a prompt in a project and stream the agent's output")
    go.add_argument("project", help="project id or unique name")
    go.add_argument("prompt", help='the prompt ("-" reads it from stdin)')
    go.add_argument("--new-session", action="store_true", help="start a fresh Claude session first")
    go.add_argument("--branch", help="an existing branch of the project's repository to start from and push to")
    _pull_request(go, "open or update a pull request for this run (default: the project's setting)")
    _limits(go)
    go.add_argument("--no-wait", action="store_true",
                    help="start the run over the REST API, print its id (--json: the execution) and exit; "
                         "then `cloutagent wait PROJECT EXECUTION`")
    go.set_defaults(fn=rest_runs.run)
    _rest_commands(sub, rest_runs)

    changes = _leaf(sub, "diff", diff.diff, "show the unified diff a run committed to the project's repository")
    changes.add_argument("project", help="project id or unique name")
    changes.add_argument("execution", nargs="?", help="the run (default: the project's latest)")

    _steering_commands(sub, steer)

    log = _leaf(sub, "logs", logs.logs, "show a project's event log")
    log.add_argument("project", help="project id or unique name")
    log.add_argument("--since", help="only events from this long ago (10m, 2h, 3d) or this ISO 8601 time")
    log.add_argument("--since-seq", type=int, default=0, help="only events after this seq")
    log.add_argument("--events", help="only these events (comma-separated names)")
    log.add_argument("--execution", help="only this execution's events")
    log.add_argument("-f", "--follow", action="store_true", help="then keep printing new events")

    group = sub.add_parser("secrets", help="set, list and delete a project's secrets")
    verbs = group.add_subparsers(dest="verb", required=True)
    put = _leaf(verbs, "set", secrets.set_secret, "set a secret (VALUE from stdin when omitted)")
    put.add_argument("project")
    put.add_argument("name")
    put.add_argument("value", nargs="?")
    _leaf(verbs, "list", secrets.list_secrets, "list a project's secret names").add_argument("project")
    remove = _leaf(verbs, "delete", secrets.delete_secret, "delete a secret")
    remove.add_argument("project")
    remove.add_argument("name")

    group = sub.add_parser("schedules", help="create, list and delete a project's recurring runs")
    verbs = group.add_subparsers(dest="verb", required=True)
    make = _leaf(verbs, "create", schedules.create_schedule,
                 "run PROMPT on a schedule; a firing while a run goes on is skipped, not queued (member)")
    make.add_argument("project")
    make.add_argument("prompt")
    clock = make.add_mutually_exclusive_group(required=True)
    clock.add_argument("--cron", help="EventBridge Scheduler cron, six fields: '0 9 ? * MON-FRI *'")
    clock.add_argument("--rate", help="'15 minutes', '1 hour', '1 day' (at least a minute)")
    make.add_argument("--name", help="what the schedule is called (shown as its runs' author)")
    make.add_argument("--timezone", default="UTC", help="the cron's IANA time zone (default: UTC)")
    _limits(make)
    _leaf(verbs, "list", schedules.list_schedules, "list a project's schedules and their last firings").add_argument(
        "project")
    remove = _leaf(verbs, "delete", schedules.delete_schedule, "delete a schedule: it fires no more (member)")
    remove.add_argument("project")
    remove.add_argument("schedule", help="schedule id (s_…)")

    _trigger_commands(sub)
    _team_commands(sub)

    spend = _leaf(sub, "usage", usage.usage, "show the plan and a month's usage")
    spend.add_argument("--month", help="YYYY-MM (default: this month)")


ROLES = ["owner", "admin", "member", "viewer"]


def _rest_commands(sub: Any, rest_runs: Any) -> None:
    after = _leaf(sub, "wait", rest_runs.wait, "wait for a run to end, over the REST API; exit 0 only if it completed")
    after.set_defaults(fn=rest_runs.over_rest)
    after.add_argument("project", help="project id or unique name")
    after.add_argument("execution", nargs="?", help="the run (x_…; default: the project's latest)")
    after.add_argument("--max-wait", type=float, metavar="SECONDS",
                       help="give up after this long, exit 6; the run goes on (default: until it ends)")
    after.add_argument("--poll", type=float, default=2.0, metavar="SECONDS",
                       help="first pause between polls; it grows to 15 s (default: 2)")
    stored = _leaf(sub, "events", rest_runs.events, "print a project's stored events, over the REST API")
    stored.set_defaults(fn=rest_runs.over_rest)
    stored.add_argument("project", help="project id or unique name")
    stored.add_argument("--since-seq", type=int, default=0, help="only events after this seq")
    stored.add_argument("--events", help="only these events (comma-separated names)")
    stored.add_argument("--execution", help="only this execution's events")


def _trigger_commands(sub: Any) -> None:
    from cloutagent_client.cli import triggers

    group = sub.add_parser("trigger", help="let comments on the project's GitHub or GitLab repository start runs")
    verbs = group.add_subparsers(dest="verb", required=True)
    put = _leaf(verbs, "set", triggers.set_trigger,
                "set (or replace) the trigger: prints the webhook URL and its secret, once (admin)")
    put.add_argument("project")
    put.add_argument("--provider", choices=["github", "gitlab"], required=True)
    put.add_argument("--word", help="the mention that starts a run (default: @cloutagent)")
    put.add_argument("--no-org-members", dest="org_members", action="store_false", default=None,
                     help="do not trust GitHub org members and collaborators (only --trust logins)")
    put.add_argument("--trust", action="append", metavar="LOGIN", help="a login trusted to start runs (repeatable)")
    _leaf(verbs, "get", triggers.get_trigger, "show the trigger and its URL, never the secret (admin)").add_argument(
        "project")
    _leaf(verbs, "delete", triggers.delete_trigger, "remove the trigger: comments start nothing more (admin)"
          ).add_argument("project")


def _team_commands(sub: Any) -> None:
    from cloutagent_client.cli import team

    group = sub.add_parser("members", help="list, invite and remove the tenant's members, and set their roles")
    verbs = group.add_subparsers(dest="verb", required=True)
    _leaf(verbs, "list", team.list_members, "list the tenant's members")
    invite = _leaf(verbs, "invite", team.invite_member,
                   "invite a person by email: they join once they sign in and accept (admin)")
    invite.add_argument("email")
    invite.add_argument("--role", choices=ROLES, default="member", help="default: member")
    role = _leaf(verbs, "set-role", team.set_member_role, "change a member's role (admin)")
    role.add_argument("member", help="user id or email")
    role.add_argument("role", choices=ROLES)
    remove = _leaf(verbs, "remove", team.remove_member, "remove a member from the tenant (admin)")
    remove.add_argument("member", help="user id or email")

    group = sub.add_parser("invitations", help="invitations addressed to you (accept, decline), and those your "
                                                "team sent (admins)")
    verbs = group.add_subparsers(dest="verb", required=True)
    _leaf(verbs, "list", team.my_invitations, "list the open invitations addressed to your email")
    for verb, fn, text in (("accept", team.accept_invitation, "join the team that invited you"),
                           ("decline", team.decline_invitation, "decline an invitation"),
                           ("revoke", team.revoke_invitation, "withdraw an invitation your team sent (admin)")):
        _leaf(verbs, verb, fn, text).add_argument("invitation", help="invitation id (i_…)")
    _leaf(verbs, "sent", team.sent_invitations, "list the invitations your team sent, and what became of them (admin)")
    own = _leaf(verbs, "start-own", team.create_own_tenant,
                "in no team yet: start one of your own instead, as its owner")
    own.add_argument("--name", help="the team's name (default: from your email)")

    group = sub.add_parser("keys", help="create, list and revoke the tenant's API keys")
    verbs = group.add_subparsers(dest="verb", required=True)
    create = _leaf(verbs, "create", team.create_key, "create an API key: printed once, on stdout (admin)")
    create.add_argument("name")
    create.add_argument("--role", choices=ROLES, default="member", help="default: member")
    create.add_argument("--project", action="append", metavar="PROJECT",
                        help="limit the key to this project (id or unique name; repeat for more)")
    create.add_argument("--expires-in-days", type=int, metavar="DAYS",
                        help="refuse the key after this many days (1–3650); default: never")
    _leaf(verbs, "list", team.list_keys, "list the tenant's API keys, revoked ones included (admin)")
    revoke = _leaf(verbs, "revoke", team.revoke_key, "revoke an API key (admin)")
    revoke.add_argument("key", help="key id (k_…) or the name of one live key")

    audit = _leaf(sub, "audit", team.list_audit, "who changed members, roles, keys, secrets, plan or the agent's "
                  "powers, and when: the tenant's audit log, newest first (admin)")
    audit.add_argument("--limit", type=int, default=50, help="entries to show (1–100, default 50)")
    audit.add_argument("--cursor", help="continue after an earlier page (its nextCursor, printed on stderr)")


def _steering_commands(sub: Any, steer: Any) -> None:
    def request(name: str, fn: Callable, help_text: str) -> argparse.ArgumentParser:
        parser = _leaf(sub, name, fn, help_text)
        parser.add_argument("project", help="project id or unique name")
        parser.add_argument("request", help="the request id (pr_…), from the run or `cloutagent pending`")
        return parser

    allow = request("approve", steer.approve, "allow what the running agent asked to do")
    allow.add_argument("--always", action="store_true", help="allow this tool for the rest of the run")
    refuse = request("deny", steer.deny, "refuse what the running agent asked to do")
    refuse.add_argument("--message", "-m", help="tell the agent why, or what to do instead")
    reply = request("answer", steer.answer, "answer the running agent's question")
    reply.add_argument("--answer", "-a", action="append", required=True, metavar='"QUESTION=ANSWER"',
                       help="a question (its text, header or number) and the answer: an option's label or your "
                            "own words; once per question; a lone question needs no QUESTION=")
    follow_up = _leaf(sub, "send", steer.send, "send the running agent a follow-up: it runs next in the same run")
    follow_up.add_argument("project", help="project id or unique name")
    follow_up.add_argument("text", help='the message ("-" reads it from stdin)')
    stop = _leaf(sub, "interrupt", steer.interrupt, "end the agent's current turn (not the run: see run's Ctrl-C)")
    stop.add_argument("project", help="project id or unique name")
    waiting = _leaf(sub, "pending", steer.pending, "list the current run's requests that wait for an answer")
    waiting.add_argument("project", help="project id or unique name")
