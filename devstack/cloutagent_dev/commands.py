"""``cloutagent dev`` and ``cloutagent invoke``: the dev stack's commands, which the client CLI
finds through the ``cloutagent.commands`` entry point, so the clients never import the dev stack."""

from __future__ import annotations

import argparse


def _dev(args: argparse.Namespace) -> int:
    from cloutagent import heap

    heap.hold()  # until the stack serves (stack.serve)
    from cloutagent_dev.settings import get_dev_settings
    from cloutagent_dev.stack import DevOptions, run

    if args.executor_pool is None:
        args.executor_pool = get_dev_settings().executor_pool_size
    if args.executor_pool < 0:
        raise SystemExit("cloutagent dev: --executor-pool must be 0 or more")

    return run(DevOptions(host=args.host, port=args.port, ready_file=args.ready_file,
                          idle_seconds=args.idle_timeout, lifetime_seconds=args.max_lifetime,
                          workspace_root=args.workspace_root, quiet=args.quiet, executor_pool=args.executor_pool))


def _invoke(args: argparse.Namespace) -> int:
    from cloutagent_dev.invoke import invoke

    return invoke(args.function, args.event, args.ready_file,
                  {"project_id": args.project_id, "execution_id": args.execution_id, "connection_id": args.connection_id})


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``dev`` and ``invoke`` to the ``cloutagent`` command's subcommands."""
    dev = sub.add_parser("dev", help="run the local stack (moto + local API Gateway + local executor)")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    dev.add_argument("--ready-file", help="write connection details as JSON here once serving")
    dev.add_argument("--idle-timeout", type=float, default=600.0, help="seconds (API Gateway: 600)")
    dev.add_argument("--max-lifetime", type=float, default=7200.0, help="seconds (API Gateway: 7200)")
    dev.add_argument("--workspace-root", default=".cloutagent/workspaces")
    dev.add_argument("--quiet", action="store_true", help="no banner")
    dev.add_argument("--executor-pool", type=int, default=None, metavar="N",
                     help="keep N executors warm, each taking one run (default: CLOUTAGENT_EXECUTOR_POOL_SIZE, else 0)")
    dev.set_defaults(fn=_dev)

    inv = sub.add_parser("invoke", help="run one handler against a running local stack, like `sam local invoke`")
    inv.add_argument("function", help="a function name from the route table, e.g. projects")
    inv.add_argument("--event", required=True, help="path to an event JSON file, e.g. events/project.create.json")
    inv.add_argument("--ready-file", default=".cloutagent/ready.json", help="the running stack's ready file")
    inv.add_argument("--project-id", default="", help="fills $PROJECT_ID in the event")
    inv.add_argument("--execution-id", default="", help="fills $EXECUTION_ID in the event")
    inv.add_argument("--connection-id", default="cli-invoke", help="fills $CONNECTION_ID in the event")
    inv.set_defaults(fn=_invoke)
