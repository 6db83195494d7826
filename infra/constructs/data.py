"""Where tenant data rests: the table, the agent-session bucket and the keys that encrypt them.

Two customer-managed keys, not one, because they are used differently:
- the *data key* encrypts the table, its stream and the session objects. Principals only use it
  through DynamoDB or S3 (kms:ViaService), never directly;
- the *project key* encrypts per-project secrets client-side, always under an encryption context
  naming the tenant and project. Keeping it separate is what lets the executor's task role decrypt
  "only with a project encryption context" while still reading the table.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.definitions import KeyAttribute, TableDefinition
from infra.nag import acknowledge

_STREAM_VIEWS = {
    "NEW_AND_OLD_IMAGES": dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    "NEW_IMAGE": dynamodb.StreamViewType.NEW_IMAGE,
    "OLD_IMAGE": dynamodb.StreamViewType.OLD_IMAGE,
    "KEYS_ONLY": dynamodb.StreamViewType.KEYS_ONLY,
}
_PROJECTIONS = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
}


class Data(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: str,
        table_definition: TableDefinition,
        sessions_expiration_days: int,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        retain = removal_policy == RemovalPolicy.RETAIN

        self.data_key = kms.Key(
            self,
            "DataKey",
            alias=f"alias/cloutagent-{stage}-data",
            description="cloutagent table, stream and agent-session objects",
            enable_key_rotation=True,
            removal_policy=removal_policy,
            pending_window=Duration.days(30),
        )
        self.project_key = kms.Key(
            self,
            "ProjectKey",
            alias=f"alias/cloutagent-{stage}-projects",
            description="cloutagent per-project secrets (encryption context: tenantId, projectId)",
            enable_key_rotation=True,
            removal_policy=removal_policy,
            pending_window=Duration.days(30),
        )

        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=_attribute(table_definition.partition_key),
            sort_key=_attribute(table_definition.sort_key) if table_definition.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=table_definition.time_to_live_attribute,
            stream=_STREAM_VIEWS[table_definition.stream] if table_definition.stream else None,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.data_key,
            deletion_protection=retain,
            removal_policy=removal_policy,
        )
        for gsi in table_definition.global_secondary_indexes:
            self.table.add_global_secondary_index(
                index_name=gsi.index_name,
                partition_key=_attribute(gsi.partition_key),
                sort_key=_attribute(gsi.sort_key) if gsi.sort_key else None,
                projection_type=_PROJECTIONS[gsi.projection],
            )
        self.lookup_index_names = tuple(gsi.index_name for gsi in table_definition.global_secondary_indexes)

        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            # S3 server access logging can only deliver to SSE-S3 buckets.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=removal_policy,
        )
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This bucket is the server-access-log target; logging it into itself would recurse and "
            "logging it elsewhere only moves the problem.",
        )

        self.sessions_bucket = s3.Bucket(
            self,
            "Sessions",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.data_key,
            # One data key per bucket instead of per object: cuts KMS calls (and cost) by ~99%.
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="sessions/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-sessions",
                    expiration=Duration.days(sessions_expiration_days),
                    noncurrent_version_expiration=Duration.days(7),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=removal_policy,
        )


_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


def _attribute(key: KeyAttribute) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])
