"""The executor's AWS session: an STS role session tagged with its tenant, over moto's HTTP."""

from __future__ import annotations

from cloutagent.adapters.tenant_session import TenantClients, tenant_session_request


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
