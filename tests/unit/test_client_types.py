"""The SDK's typed results name exactly the fields the service sends: one source of truth."""

from __future__ import annotations

import typing

from cloutagent_client import types as wire
from cloutagent.domain import audit, executions, identity, models
from cloutagent.protocol import replies


def _fields(model, *hidden: str) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()} - set(hidden)


def test_each_typed_result_has_the_keys_of_the_service_s_wire_object():
    assert set(wire.Project.__annotations__) == _fields(models.Project, "tenantId", "webhook")
    assert set(wire.Execution.__annotations__) == _fields(executions.Execution, "tenantId", "trigger")
    assert set(wire.ApiKey.__annotations__) == _fields(models.ApiKey, "tenantId")
    assert set(wire.Member.__annotations__) == _fields(models.Member, "tenantId")
    assert set(wire.Invitation.__annotations__) == _fields(models.Invitation, "tenantId")
    assert set(typing.get_args(wire.InvitationStatus)) == set(typing.get_args(models.InvitationStatus))
    assert set(wire.AuditEntry.__annotations__) == _fields(audit.AuditEntry, "tenantId")
    assert set(wire.AuditActor.__annotations__) == _fields(audit.AuditActor)
    me = replies.whoami(identity.Identity(tenant_id="t", user_id="u", role=identity.Role.owner, connection_id="c"))
    assert set(wire.Identity.__annotations__) == set(me)


def test_the_status_and_state_values_are_the_service_s():
    assert set(typing.get_args(wire.ExecutionStatus)) == set(typing.get_args(executions.ExecutionStatus))
    assert set(typing.get_args(wire.Role)) == {role.name for role in identity.Role}
    assert set(typing.get_args(wire.ProjectState)) == set(typing.get_args(models.ProjectState))


def test_a_schedule_s_typed_result_has_the_keys_the_service_sends():
    from cloutagent.domain import schedules

    assert set(wire.Schedule.__annotations__) == _fields(schedules.Schedule, "tenantId")
    assert set(typing.get_args(wire.ScheduleOutcome)) == set(typing.get_args(schedules.ScheduleOutcome))


def test_a_trigger_s_typed_result_has_the_keys_the_service_sends():
    from cloutagent.domain import triggers

    assert set(wire.Trigger.__annotations__) == _fields(triggers.TriggerConfig)
    assert set(typing.get_args(wire.GitHost)) == set(typing.get_args(triggers.GitHost))
