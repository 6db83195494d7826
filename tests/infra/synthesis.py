"""Synthesizing the real app hermetically: no pip, no Dockerfile, placeholder handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App
from aws_cdk.assertions import Template

from infra.app import build_app, cdk_json_context
from infra.definitions import Definitions
from infra.stack import CloutagentStack

# What differs from cdk.json in tests: no pip download, a prebuilt image tag instead of a build.
HERMETIC = {"bundleDependencies": False, "executorImageTag": "test"}


@dataclass(frozen=True)
class Synth:
    app: App
    stack: CloutagentStack
    template: Template
    outdir: Path

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.to_json()["Resources"]

    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}

    def validation_report(self) -> dict[str, Any]:
        return json.loads((self.outdir / "validation-report.json").read_text())


def hermetic_context(functions_root: Path, **overrides: Any) -> dict[str, Any]:
    return {**cdk_json_context(), **HERMETIC, "functionsRoot": str(functions_root), **overrides}


def synthesize(context: dict[str, Any], outdir: Path) -> Synth:
    app, stack = build_app(context=context, outdir=str(outdir))
    app.synth()
    return Synth(app=app, stack=stack, template=Template.from_stack(stack), outdir=outdir)


def write_placeholder_functions(root: Path, definitions: Definitions) -> Path:
    """A functions/ package with a trivial handler for every function routes.json names."""
    package = root / "functions"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    for name in definitions.routes.functions:
        folder = package / name
        folder.mkdir(exist_ok=True)
        (folder / "__init__.py").write_text("")
        (folder / "handler.py").write_text("def handler(event, context=None):\n    return {}\n")
    return root
