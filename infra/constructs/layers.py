"""The two layers every function shares: the domain library and its third-party dependencies."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Annotations, AssetHashType, BundlingOptions, DockerImage, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.bundling import PipInstall, runtime_requirements
from infra.constructs.functions import LAMBDA_ARCHITECTURE, LAMBDA_PYTHON_VERSION, LAMBDA_RUNTIME

# Laptop-only parts of the domain package (local stack, CLI, SDK client) never ship to Lambda.
DOMAIN_LAYER_EXCLUDES = (
    "python/cloutagent/local",
    "python/cloutagent/cli",
    "python/cloutagent/client",
    "__pycache__",
    "*.pyc",
)


class SharedLayers(Construct):
    def __init__(self, scope: Construct, id: str, *, layer_root: Path, bundle_dependencies: bool) -> None:
        super().__init__(scope, id)

        self.domain = lambda_.LayerVersion(
            self,
            "Domain",
            description="cloutagent domain library (layers/cloutagent)",
            code=lambda_.Code.from_asset(str(layer_root), exclude=list(DOMAIN_LAYER_EXCLUDES)),
            compatible_runtimes=[LAMBDA_RUNTIME],
            compatible_architectures=[LAMBDA_ARCHITECTURE],
            # Old versions stay so a rollback of the functions can still reference them.
            removal_policy=RemovalPolicy.RETAIN,
        )

        pip = PipInstall(
            requirements=runtime_requirements(),
            python_version=LAMBDA_PYTHON_VERSION,
            enabled=bundle_dependencies,
        )
        self.dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            description="Third-party run-time dependencies (pyproject [project].dependencies)",
            code=lambda_.Code.from_asset(
                str(layer_root),  # not read: pip writes the output; the hash below names the asset
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
        if not bundle_dependencies:
            Annotations.of(self.dependencies).add_info(
                "bundleDependencies=false: the dependencies layer is a placeholder; do not deploy this synth."
            )

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.dependencies, self.domain]
