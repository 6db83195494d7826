"""IAM statements this project grants, as plain functions the stack composes.

Tenant isolation in IAM: every tenant-owned item's partition key starts with ``T#{tenantId}``
(``cloutagent.adapters.dynamo.keys``). Function roles are conditioned on ``dynamodb:LeadingKeys``
matching ``T#*``: they cannot touch any partition outside the tenant keyspace, but cannot tell one
tenant from another (the code does, from the authorizer's tenant id). The executor's data role is
assumed with the run's tenant as the STS session tag ``tenantId``, so its ``session_tenant_*``
statements name that one tenant (``${aws:PrincipalTag/tenantId}``, resolved by IAM per request).
"""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Aws, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from infra.nag import acknowledge

TENANT_PARTITIONS = "T#*"
# An IAM policy variable, not a CDK token: it reaches the template verbatim.
SESSION_TENANT = "${aws:PrincipalTag/tenantId}"
# The tenant's own partition and its projects' (T#{t}#P#{p}...), and no other tenant's.
SESSION_TENANT_PARTITIONS = (f"T#{SESSION_TENANT}", f"T#{SESSION_TENANT}#*")
ITEM_READ_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
)
# TransactWriteItems is authorised per contained operation (Put/Update/Delete/ConditionCheck).
ITEM_WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)
# Encryption context every project secret is sealed under; see Data for why this is its own key.
PROJECT_CONTEXT_KEYS = ("tenantId", "projectId")


def tenant_items(table: dynamodb.ITable, *, write: bool) -> iam.PolicyStatement:
    """Item-level access to tenant partitions only (never Scan, never a non-tenant partition)."""
    return iam.PolicyStatement(
        sid="TenantItems",
        actions=[*ITEM_READ_ACTIONS, *(ITEM_WRITE_ACTIONS if write else ())],
        resources=[table.table_arn],
        conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [TENANT_PARTITIONS]}},
    )


def session_tenant_items(table: dynamodb.ITable, *, write: bool) -> iam.PolicyStatement:
    """Item-level access to the partitions of the session's tenant (its ``tenantId`` tag) only."""
    return iam.PolicyStatement(
        sid="SessionTenantItems",
        actions=[*ITEM_READ_ACTIONS, *(ITEM_WRITE_ACTIONS if write else ())],
        resources=[table.table_arn],
        conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(SESSION_TENANT_PARTITIONS)}},
    )


def exact_partition(table: dynamodb.ITable, partition: str, *, sid: str) -> iam.PolicyStatement:
    """Item reads and writes in exactly one named partition (no wildcard in the key)."""
    return iam.PolicyStatement(
        sid=sid,
        actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        resources=[table.table_arn],
        conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [partition]}},
    )


def lookup_index(table: dynamodb.ITable, index_name: str) -> iam.PolicyStatement:
    """Query on the sparse lookup index (user id, API-key hash → membership): finds the tenant.

    Not conditioned on LeadingKeys: its partitions (USER#…, APIKEYHASH#…) are not tenant keys,
    and only items that carry a lookup key are in the index at all.
    """
    return iam.PolicyStatement(
        sid="LookupIndex",
        actions=["dynamodb:Query"],
        resources=[f"{table.table_arn}/index/{index_name}"],
    )


# The attributes a handshake reads of an API-key item and writes back (adapters/dynamo/access.py
# API_KEY_READ_ATTRIBUTES; tests/infra/test_infra_iam.py checks they match): never the key's hash.
API_KEY_READ_ATTRIBUTES = ("tenantId", "keyId", "name", "role", "prefix", "createdAt", "createdBy", "revokedAt",
                           "projectIds", "expiresAt", "lastUsedAt")
API_KEY_USE_ATTRIBUTES = ("PK", "SK", "lastUsedAt")


def api_key_checks(table: dynamodb.ITable) -> list[iam.PolicyStatement]:
    """What authenticating an API key needs beyond the lookup index: a consistent read of the key's
    record (a revocation cannot race it) and its ``lastUsedAt``; for functions that otherwise read or
    write no item, so only those attributes, in tenant partitions."""
    tenant = {"dynamodb:LeadingKeys": [TENANT_PARTITIONS]}
    return [
        iam.PolicyStatement(
            sid="ApiKeyRecordRead",
            actions=["dynamodb:GetItem"],
            resources=[table.table_arn],
            conditions={"ForAllValues:StringLike": tenant,
                        "ForAllValues:StringEquals": {"dynamodb:Attributes": list(API_KEY_READ_ATTRIBUTES)},
                        "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}},
        ),
        iam.PolicyStatement(
            sid="ApiKeyLastUse",
            actions=["dynamodb:UpdateItem"],
            resources=[table.table_arn],
            conditions={"ForAllValues:StringLike": tenant,
                        "ForAllValues:StringEquals": {"dynamodb:Attributes": list(API_KEY_USE_ATTRIBUTES)},
                        "StringEqualsIfExists": {"dynamodb:ReturnValues": "NONE"}},
        ),
    ]


def data_key_via(key: kms.IKey, *, services: Sequence[str], write: bool) -> iam.PolicyStatement:
    """Use of the data key only as DynamoDB/S3 use it on the caller's behalf, never directly."""
    return iam.PolicyStatement(
        sid="DataKeyViaServices",
        actions=["kms:Decrypt", "kms:DescribeKey", *(("kms:Encrypt", "kms:GenerateDataKey") if write else ())],
        resources=[key.key_arn],
        conditions={
            "StringEquals": {"kms:ViaService": [f"{service}.{Aws.REGION}.amazonaws.com" for service in services]}
        },
    )


def project_key(key: kms.IKey, *, actions: Sequence[str]) -> iam.PolicyStatement:
    """Use of the project key only with an encryption context naming a tenant and a project."""
    return iam.PolicyStatement(
        sid="ProjectKeyWithContext",
        actions=list(actions),
        resources=[key.key_arn],
        conditions={"Null": {f"kms:EncryptionContext:{name}": "false" for name in PROJECT_CONTEXT_KEYS}},
    )


def webhook_secret_key(key: kms.IKey, *, actions: Sequence[str], secret_name: str) -> iam.PolicyStatement:
    """Use of the project key for projects' webhook signing secrets only (their context's ``name``)."""
    return iam.PolicyStatement(
        sid="ProjectKeyForWebhookSecrets",
        actions=list(actions),
        resources=[key.key_arn],
        conditions={
            "StringEquals": {"kms:EncryptionContext:name": secret_name},
            "Null": {f"kms:EncryptionContext:{name}": "false" for name in PROJECT_CONTEXT_KEYS},
        },
    )


def session_tenant_project_key(key: kms.IKey, *, actions: Sequence[str]) -> iam.PolicyStatement:
    """Use of the project key only under an encryption context naming the session's tenant."""
    return iam.PolicyStatement(
        sid="SessionTenantProjectKey",
        actions=list(actions),
        resources=[key.key_arn],
        conditions={
            "StringEquals": {"kms:EncryptionContext:tenantId": SESSION_TENANT},
            "Null": {f"kms:EncryptionContext:{name}": "false" for name in PROJECT_CONTEXT_KEYS},
        },
    )


def session_tenant_objects(role: iam.IRole, bucket: s3.IBucket, *, folders: Sequence[str]) -> None:
    """Get/Put/Delete and List under ``<folder><session tenant>/`` of one bucket, for each folder."""
    patterns = [f"{folder}{SESSION_TENANT}/*" for folder in folders]
    objects = [bucket.arn_for_objects(pattern) for pattern in patterns]
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="SessionTenantObjects", actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], resources=objects
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="SessionTenantList",
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": patterns}},
        )
    )
    for folder, resource in zip(folders, objects):
        acknowledge_wildcard(
            role,
            resource,
            f"Object keys are created at run time under {folder}<tenantId>/, and the tenant is the "
            "session's own tag: object-level Get/Put/Delete in that tenant's folder only.",
        )


CONNECTION_IDS_ARE_MINTED = (
    "Connection ids are minted by API Gateway at $connect time; the grant is limited to POST on "
    "this API's own stage, and which connections a tenant may reach is decided from the table."
)


def post_to_connections(role: iam.IRole, connections_arn: str, *, reason: str = CONNECTION_IDS_ARE_MINTED) -> None:
    """execute-api:ManageConnections POST (send a frame) to any connection of the stage."""
    role.add_to_principal_policy(
        iam.PolicyStatement(sid="PostToConnections", actions=["execute-api:ManageConnections"], resources=[connections_arn])
    )
    acknowledge_wildcard(role, connections_arn, reason)


def close_connections(role: iam.IRole, connections_arn: str) -> None:
    """execute-api:ManageConnections DELETE (close) on any connection of the stage."""
    role.add_to_principal_policy(
        iam.PolicyStatement(sid="CloseConnections", actions=["execute-api:ManageConnections"], resources=[connections_arn])
    )
    acknowledge_wildcard(
        role,
        connections_arn,
        "Closing is limited to DELETE on this API's own stage; it is used only to end the sessions of a "
        "key or member whose access was revoked or changed, found by tenant in the table.",
    )


def acknowledge_wildcard(role: IConstruct, resource: str, reason: str) -> None:
    """Acknowledge IAM5 for exactly one wildcard resource (not every wildcard the role holds)."""
    acknowledge(role, f"AwsSolutions-IAM5[Resource::{nag_resource(role, resource)}]", reason)


def nag_resource(scope: IConstruct, resource: str) -> str:
    """A resource as cdk-nag names it in a finding: intrinsics flattened to ``<Logical.Attr>``."""
    return _flatten(Stack.of(scope).resolve(resource))


def _flatten(node: object) -> str:
    # Mirrors cdk-nag's flattenCfnReference, so the finding id matches to the character.
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return delimiter.join(_flatten(item) for item in items)
        if "Fn::Sub" in node:
            return _flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if "Fn::ImportValue" in node:
            return _flatten(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{_flatten(node['Ref'])}>"
    raise ValueError(f"cannot name {node!r} the way cdk-nag does")
