"""CDK entry point: ``cdk synth`` / ``cdk deploy`` run ``python -m infra.app`` (see cdk.json).

Run directly (``make synth``, ``python -m infra.app -c stage=prod``) it behaves like ``cdk synth``
without the CLI: it reads cdk.json's context itself, applies ``-c key=value`` overrides and writes
to ./cdk.out. ``build_app`` is also what the tests call, with cdk.json's context plus overrides, so
they synthesize what a deploy would, cdk-nag included.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Mapping, Sequence

from aws_cdk import App, Environment, Tags

from infra.config import InfraConfig
from infra.definitions import REPO_ROOT, load_definitions
from infra.nag import add_checks
from infra.stack import CloutagentStack


def build_app(
    *,
    context: Mapping[str, Any] | None = None,
    outdir: str | None = None,
    env: Environment | None = None,
) -> tuple[App, CloutagentStack]:
    app = App(context=dict(context) if context is not None else None, outdir=outdir)
    definitions = load_definitions()
    config = InfraConfig.from_context(app.node, definitions)
    stack = CloutagentStack(
        app,
        config.stack_name,
        config=config,
        definitions=definitions,
        env=env,
        termination_protection=config.retain_data,
    )
    Tags.of(app).add("project", "cloutagent")
    Tags.of(app).add("stage", config.stage)
    add_checks(app)
    return app, stack


def _cli_environment() -> Environment | None:
    # The CDK CLI sets these from the credentials it runs with; without them the stack stays
    # environment-agnostic (fine for synth, and what the tests use).
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    return Environment(account=account, region=region) if account and region else None


def cdk_json_context() -> dict[str, Any]:
    return json.loads((REPO_ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]


def _overrides(argv: Sequence[str]) -> dict[str, str]:
    """``-c key=value`` pairs, as the CDK CLI accepts them (values stay strings, as with the CLI)."""
    pairs = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg in ("-c", "--context")]
    return dict(pair.split("=", 1) for pair in pairs)


def main(argv: Sequence[str] = ()) -> None:
    if "CDK_OUTDIR" in os.environ:  # started by the CDK CLI, which passes context and outdir itself
        app, _ = build_app(env=_cli_environment())
    else:
        context = {**cdk_json_context(), **_overrides(argv)}
        app, _ = build_app(context=context, outdir=str(REPO_ROOT / "cdk.out"), env=_cli_environment())
    app.synth()


if __name__ == "__main__":
    main(sys.argv[1:])
