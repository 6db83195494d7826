"""AWS CDK infrastructure of cloutagent. Entry point: ``python -m infra.app`` (see cdk.json)."""
