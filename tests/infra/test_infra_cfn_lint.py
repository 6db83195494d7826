"""Deployability without AWS: cfn-lint over every template a synthesis writes.

cfn-lint checks what CloudFormation itself would refuse at deploy time (resource properties and
their types, references, intrinsic functions, region availability), which neither CDK nor cdk-nag
checks. Any error fails. Of the warnings, only W3005 is tolerated: CDK's own constructs write a
DependsOn that an existing Ref/GetAtt already implies (W3005: "obsolete DependsOn"), which is
harmless and not ours to change; any other warning fails too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_file

pytestmark = pytest.mark.infra

TOLERATED_WARNINGS = {"W3005"}
REGIONS = ["us-east-1"]


def _templates(outdir: Path) -> list[Path]:
    """The stacks' templates and any nested or asset template beside them."""
    return sorted(outdir.glob("*.template.json")) + sorted(outdir.glob("asset.*/*.template.json"))


def _findings(template: Path) -> list[tuple[str, int, str]]:
    """(rule, line, message) for each finding."""
    return [(m.rule.id, m.linenumber, m.message) for m in lint_file(template, config=ManualArgs(regions=REGIONS))]


def test_every_synthesized_template_has_no_cfn_lint_error_and_no_unexplained_warning(synth):
    # GIVEN every template the synthesis wrote
    templates = _templates(Path(synth.outdir))
    assert templates, f"no template in {synth.outdir}"

    # WHEN cfn-lint checks each one
    findings = {template.name: _findings(template) for template in templates}

    # THEN none has an error, and every warning is one CDK writes itself
    errors = {name: [f for f in found if f[0].startswith("E")] for name, found in findings.items()}
    assert not any(errors.values()), errors
    unexplained = {name: [f for f in found if f[0].startswith("W") and f[0] not in TOLERATED_WARNINGS]
                   for name, found in findings.items()}
    assert not any(unexplained.values()), unexplained


def test_cfn_lint_does_find_errors_in_a_broken_template(tmp_path):
    # GIVEN a template CloudFormation would refuse (an unknown property, a Ref to nothing)
    broken = tmp_path / "broken.template.json"
    broken.write_text('{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": '
                      '{"NoSuchProperty": 1, "QueueName": {"Ref": "Missing"}}}}}')
    # THEN the same check reports errors, so the test above is not vacuous
    assert any(rule.startswith("E") for rule, _, _ in _findings(broken))
