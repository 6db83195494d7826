"""Property: whatever tenant B sends, naming tenant A's ids or identity, nothing of A is returned,
changed or broadcast (A's project and its event log stay exactly as they were)."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloutagent import definitions
from cloutagent.domain.identity import Identity, Role
from cloutagent_dev.lambdas import load_handler
from cloutagent.protocol.actions import ProjectCreate

# openapi answers the same static document to everyone (in chunks, so no route body to inspect)
ACTIONS = sorted(a for a in definitions.routes()["routes"] if not a.startswith("$") and a != "openapi")


def takes_project(action: str) -> bool:
    import importlib

    module_path = definitions.routes()["functions"][definitions.routes()["routes"][action]]["handler"].rsplit(".", 1)[0]
    route = importlib.import_module(module_path).app.routes[action]
    return "projectId" in route.model.model_fields


@pytest.fixture(scope="module")
def tenants(aws):
    def tenant(label):
        member = aws.tenants.ensure_tenant_for_user(f"{label}-{uuid.uuid4()}", f"{label}@example.com")
        identity = Identity(tenant_id=member.tenant_id, user_id=member.user_id, role=Role.owner)
        project = aws.projects.create(identity, ProjectCreate(name=f"{label} secret project", description=f"{label}-only"))
        return identity, project

    return tenant("alpha"), tenant("beta")


@pytest.fixture
def unthrottled(monkeypatch):
    """150 attacks from one connection outrun its 50 requests a second on a fast machine: the
    property is about what an action answers, not about the rate limit (tests of its own)."""
    from cloutagent.settings import reset_settings

    monkeypatch.setenv("CLOUTAGENT_RATE_LIMIT_SCALE", "10")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


def snapshot(aws, identity, project):
    stored = aws.project_store.get(identity.tenant_id, project.project_id)
    events, _ = aws.event_log.read(identity.tenant_id, project.project_id, after_seq=0, limit=500)
    return stored.model_dump(), [e.model_dump() for e in events]


def test_no_action_of_another_tenant_returns_changes_or_broadcasts_our_data(aws, event_for, tenants, unthrottled):
    (alpha, alpha_project), (beta, _) = tenants
    before = snapshot(aws, alpha, alpha_project)
    secrets_of_alpha = [alpha_project.project_id, alpha_project.name, "alpha-only", alpha.tenant_id]

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(
        action=st.sampled_from(ACTIONS),
        target=st.sampled_from([alpha_project.project_id, "p_" + uuid.uuid4().hex[:20]]),
        smuggled=st.fixed_dictionaries({}, optional={
            "tenantId": st.just(alpha.tenant_id), "userId": st.just(alpha.user_id), "role": st.just("owner"),
            "name": st.text(min_size=1, max_size=20), "description": st.just("hijacked"),
            "prompt": st.just("[fake:stream n=1]"), "executionId": st.just("x_0"), "keyId": st.just("k_0"),
        }),
    )
    def attack(action, target, smuggled):
        event = event_for("ping", tenant_id=beta.tenant_id, user_id=beta.user_id, role="owner", connection_id="beta-conn")
        event["body"] = json.dumps({"action": action, "requestId": "x", "data": {"projectId": target, **smuggled}})
        reply_text = load_handler(definitions.routes()["routes"][action])(event, None)["body"]
        for secret in secrets_of_alpha:
            assert secret not in reply_text, (action, reply_text[:300])
        reply = json.loads(reply_text)
        if target == alpha_project.project_id and takes_project(action):
            # existence does not leak: another tenant's project is simply not there
            assert reply["type"] == "error" and reply["error"]["code"] in ("PROJECT_NOT_FOUND", "BAD_REQUEST"), reply

    attack()
    assert snapshot(aws, alpha, alpha_project) == before
