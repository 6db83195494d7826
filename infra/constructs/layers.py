"""The two layers every function shares (the domain library and its third-party dependencies),
plus one layer per heavy dependency group that only some functions need (routes.json names them)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from aws_cdk import Annotations, AssetHashType, BundlingOptions, DockerImage, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.bundling import PipInstall
from infra.constructs.functions import LAMBDA_ARCHITECTURE, LAMBDA_PYTHON_VERSION, LAMBDA_RUNTIME
from infra.locks import BASE, layer_lock

# Byte code a developer's interpreter left behind is not source; Lambda compiles its own.
BYTECODE = ["__pycache__", "*.pyc"]


class SharedLayers(Construct):
    def __init__(
        self, scope: Construct, id: str, *, layer_root: Path, bundle_dependencies: bool, groups: Sequence[str] = ()
    ) -> None:
        super().__init__(scope, id)
        self._layer_root = layer_root
        self._bundle = bundle_dependencies

        self.domain = lambda_.LayerVersion(
            self,
            "Domain",
            description="cloutagent domain library (layers/cloutagent)",
            code=lambda_.Code.from_asset(str(layer_root), exclude=BYTECODE),
            compatible_runtimes=[LAMBDA_RUNTIME],
            compatible_architectures=[LAMBDA_ARCHITECTURE],
            # Old versions stay so a rollback of the functions can still reference them.
            removal_policy=RemovalPolicy.RETAIN,
        )

        self.dependencies = self._pip_layer(
            "Dependencies", layer_lock(BASE).path,
            "Third-party run-time dependencies (pyproject [project].dependencies, requirements/lambda.lock)"
        )
        self.groups = {
            group: self._pip_layer(f"Group{group.title()}", layer_lock(group).path,
                                   f"Dependency group '{group}' (pyproject optional-dependencies, "
                                   f"requirements/{layer_lock(group).path.name})")
            for group in sorted(set(groups))
        }

    def _pip_layer(self, id: str, lock: Path, description: str) -> lambda_.LayerVersion:
        pip = PipInstall(lock=lock, python_version=LAMBDA_PYTHON_VERSION, enabled=self._bundle)
        layer = lambda_.LayerVersion(
            self,
            id,
            description=description,
            code=lambda_.Code.from_asset(
                str(self._layer_root),  # not read: pip writes the output; the hash below names the asset
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=pip.fingerprint,
                bundling=BundlingOptions(
                    local=pip,
                    # Required by the API but never pulled: PipInstall either succeeds or raises.
                    image=DockerImage.from_registry("unused-local-bundling-only"),
                ),
            ),
            compatible_runtimes=[LAMBDA_RUNTIME],
            compatible_architectures=[LAMBDA_ARCHITECTURE],
            removal_policy=RemovalPolicy.RETAIN,
        )
        if not self._bundle:
            Annotations.of(layer).add_info(
                "bundleDependencies=false: this dependencies layer is a placeholder; do not deploy this synth."
            )
        return layer

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.dependencies, self.domain]

    def for_groups(self, groups: Sequence[str]) -> list[lambda_.ILayerVersion]:
        """The shared layers plus the layers of the dependency groups a function declares."""
        return [self.dependencies, *(self.groups[g] for g in groups), self.domain]
