"""cdk-nag (AwsSolutions) passes with every finding either fixed or acknowledged for a reason."""

from __future__ import annotations

import pytest
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match

from infra.app import build_app
from infra.nag import MIN_REASON
from tests.infra.synthesis import hermetic_context

pytestmark = pytest.mark.infra

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"


def test_synthesis_reports_no_unacknowledged_findings(synth):
    # GIVEN the app synthesized with the AwsSolutions pack registered (a finding would have raised)
    report = synth.validation_report()

    # THEN no plugin (cdk-nag, nor CDK's own CloudFormation checks) reports anything left open
    assert [
        (plugin["pluginName"], violation["ruleName"], [c["constructPath"] for c in violation["violatingConstructs"]])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
    ] == []


def test_no_errors_or_warnings_are_annotated(synth):
    annotations = Annotations.from_stack(synth.stack)

    assert annotations.find_error("*", Match.any_value()) == []
    assert annotations.find_warning("*", Match.any_value()) == []


def test_every_acknowledgement_is_resource_level_and_explained(synth):
    # GIVEN every AwsSolutions acknowledgement in the tree
    acknowledgements = [
        (construct.node.path, rule, reason)
        for construct in synth.stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == ACKNOWLEDGED
        for rule, reason in entry.data.items()
        if "AwsSolutions-" in rule
    ]
    assert acknowledgements, "expected the documented acknowledgements"

    for path, rule, reason in acknowledgements:
        # THEN none is made for the whole stack: each sits on the resource it excuses
        assert path != synth.stack.node.path, f"{rule} acknowledged stack-wide"
        # AND carries a reason a reviewer can check
        assert len(reason) >= MIN_REASON, f"{path}: {rule} has no real reason"
        # AND IAM5 (wildcards) is only ever acknowledged for one named finding, never wholesale
        if "IAM5" in rule or "IAM4" in rule:
            assert "[" in rule, f"{path}: {rule} acknowledges every finding of the rule"


def test_a_non_compliant_resource_fails_synthesis(functions_root, tmp_path):
    # GIVEN the real app with one resource cdk-nag must reject
    app, stack = build_app(context=hermetic_context(functions_root), outdir=str(tmp_path))
    sqs.Queue(stack, "PlainQueue")

    # WHEN it is synthesized THEN the AwsSolutions findings stop it (the pack is really wired)
    with pytest.raises(Exception) as failure:
        app.synth()
    assert "AwsSolutions-SQS4" in str(failure.value) or "AwsSolutions-SQS4" in (tmp_path / "validation-report.json").read_text()


def test_the_other_settings_branches_pass_too(synthesized):
    # GIVEN the opposite of cdk.json on every switch that changes which resources exist
    alternative = synthesized(
        apiGatewayAccountRole=True,
        requireMfa=True,
        cognitoPlusTier=True,
        retainData=False,
        stripeSecretName="shared/stripe",
        allowedOrigins=[],
        stage="prod",
    )

    # THEN synthesis passed cdk-nag (it would have raised) with nothing left open or annotated
    assert [p["violations"] for p in alternative.validation_report()["pluginReports"]] == []
    annotations = Annotations.from_stack(alternative.stack)
    assert annotations.find_warning("*", Match.any_value()) == []
    alternative.template.resource_count_is("AWS::ApiGateway::Account", 1)
    # an existing Stripe secret is used as is; only the executor's Anthropic secret is created
    alternative.template.resource_count_is("AWS::SecretsManager::Secret", 1)
