"""cdk-nag wiring: the rule pack for the app and the one way this code base acknowledges a finding.

cdk-nag 3 runs as a CDK policy-validation plugin: findings fail ``app.synth()`` (and ``cdk synth``)
unless acknowledged on the construct that owns them. Acknowledgements are made next to the resource
they excuse, with a reason a reviewer can check; ``MIN_REASON`` keeps "ok" from passing as one.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

MIN_REASON = 40


def add_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one finding (``AwsSolutions-IAM5[Resource::...]`` for a single IAM5 finding)."""
    if len(reason) < MIN_REASON:
        raise ValueError(f"acknowledging {rule_id} needs a real reason, got {reason!r}")
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))
