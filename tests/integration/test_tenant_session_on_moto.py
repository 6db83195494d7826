"""The executor's AWS session: an STS role session tagged with its tenant, over moto's HTTP."""

from __future__ import annotations

import pytest

from cloutagent.adapters.tenant_session import NotClaimedYet, TenantClients, tenant_session_request


def test_the_tenant_is_a_session_tag_and_the_execution_names_the_session():
    request = tenant_session_request("arn:aws:iam::1:role/data", "t_alpha", "e_" + "x" * 80)
    assert request["Tags"] == [{"Key": "tenantId", "Value": "t_alpha"}]
    assert request["RoleSessionName"].startswith("run-e_") and len(request["RoleSessionName"]) == 64


def test_every_call_of_the_tenant_clients_is_made_as_the_assumed_role(aws, ready):
    clients = TenantClients(ready["tenantRoleArn"], "t_alpha", "e_123")
    identity = clients.client("sts").get_caller_identity()
    assert identity["Arn"].endswith(":assumed-role/cloutagent-local-tenant-data/run-e_123")
    # and the session reaches the stack's data like any other client
    assert clients.dynamodb().describe_table(TableName=aws.settings.table_name)["Table"]["TableStatus"] == "ACTIVE"


def test_clients_made_before_a_claim_sign_nothing_until_it_names_their_tenant(aws, ready):
    # GIVEN a pool executor's clients, made while it waits for a claim
    clients = TenantClients(ready["tenantRoleArn"])
    sts = clients.client("sts")
    # THEN they make no call at all: there is no tenant to make it as
    with pytest.raises(NotClaimedYet):
        sts.get_caller_identity()
    # WHEN a claim names the tenant, the same clients call as its role session
    clients.bind("t_alpha", "e_456")
    assert sts.get_caller_identity()["Arn"].endswith(":assumed-role/cloutagent-local-tenant-data/run-e_456")
    # AND no later claim can make them another tenant's
    with pytest.raises(RuntimeError, match="already belong"):
        clients.bind("t_beta", "e_789")
