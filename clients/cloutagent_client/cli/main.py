"""``cloutagent``: the client commands (``login``, ``projects``, ``run``, ``diff``, ``approve``, ``deny``,
``answer``, ``send``, ``interrupt``, ``pending``, ``logs``, ``secrets``, ``usage``; see docs/clients.md), plus whatever installed extras add (the dev stack: ``dev``, ``invoke``)."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points


def _client(args: argparse.Namespace) -> int:
    from cloutagent_client.cli.session import run

    return run(args, args.client_command)


def build_parser() -> argparse.ArgumentParser:
    from cloutagent_client.cli.parser import EPILOG, add_client_commands, add_connection_options

    parser = argparse.ArgumentParser(prog="cloutagent", description="Run Claude Code agents for teams in the cloud.",
                                     epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"cloutagent {_version()}")
    add_connection_options(parser, suppress=False)
    parser.set_defaults(fn=_client)
    sub = parser.add_subparsers(dest="command", required=True)
    add_client_commands(sub)

    _add_plugin_commands(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cloutagent-client")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _add_plugin_commands(sub: argparse._SubParsersAction) -> None:
    # Installed extras add commands (the dev stack adds `dev` and `invoke`) without this
    # package importing them.
    for entry in entry_points(group="cloutagent.commands"):
        entry.load()(sub)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
