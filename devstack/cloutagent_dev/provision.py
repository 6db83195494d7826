"""Create in moto what ``infra/`` creates in AWS, from the same definitions."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from cloutagent import definitions
from cloutagent.adapters.claims import CLAIM_VISIBILITY_SECONDS
from cloutagent.adapters.platform_secrets import ANTHROPIC_SECRET, STRIPE_SECRET


@dataclass
class LocalResources:
    table_name: str
    user_pool_id: str
    user_pool_client_id: str
    kms_key_id: str
    sessions_bucket: str
    tenant_role_arn: str
    stripe_secret_name: str = STRIPE_SECRET  # for CLOUTAGENT_STRIPE_SECRET_NAME
    claim_queue_url: str = ""  # the executor pool's claims (cloutagent.adapters.claims)
    schedule_group: str = ""  # EventBridge Scheduler's, in moto (fired by cloutagent_dev/scheduler.py)
    scheduler_role_arn: str = ""
    scheduled_run_arn: str = ""


def create_table(dynamodb: Any, name: str) -> None:
    """The table as table.json defines it (the CDK construct reads the same file)."""
    spec = definitions.table()
    attrs = {spec["partitionKey"]["name"]: spec["partitionKey"]["type"], spec["sortKey"]["name"]: spec["sortKey"]["type"]}
    indexes = []
    for gsi in spec["globalSecondaryIndexes"]:
        attrs[gsi["partitionKey"]["name"]] = gsi["partitionKey"]["type"]
        attrs[gsi["sortKey"]["name"]] = gsi["sortKey"]["type"]
        indexes.append(
            {
                "IndexName": gsi["indexName"],
                "KeySchema": [
                    {"AttributeName": gsi["partitionKey"]["name"], "KeyType": "HASH"},
                    {"AttributeName": gsi["sortKey"]["name"], "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": gsi["projection"]},
            }
        )
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": v} for k, v in attrs.items()],
        KeySchema=[
            {"AttributeName": spec["partitionKey"]["name"], "KeyType": "HASH"},
            {"AttributeName": spec["sortKey"]["name"], "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=indexes,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": spec["stream"]},
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec["timeToLiveAttribute"]}
    )


def create_user_pool(cognito: Any) -> tuple[str, str]:
    pool = cognito.create_user_pool(
        PoolName="cloutagent-local",
        AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}],
    )["UserPool"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="cloutagent-local",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    return pool["Id"], client["ClientId"]


def create_platform_secrets(secretsmanager: Any) -> None:
    """The operator's secrets, as Secrets Manager holds them in AWS (adapters/platform_secrets.py).

    From the developer's environment (STRIPE_API_KEY, STRIPE_WEBHOOK_SECRET, ANTHROPIC_API_KEY, via
    settings) when set, else safe local defaults: no API keys, and a webhook signing secret that is
    random per run, so no fixed secret lives in the repository.
    """
    from cloutagent_dev.settings import get_dev_settings

    dev = get_dev_settings()
    values = {
        STRIPE_SECRET: {"apiKey": dev.stripe_api_key,
                        "webhookSecret": dev.stripe_webhook_secret or "whsec_local_" + secrets.token_hex(16)},
        ANTHROPIC_SECRET: {"apiKey": dev.anthropic_api_key},
    }
    for name, value in values.items():
        secretsmanager.create_secret(Name=name, SecretString=json.dumps(value))


def create_tenant_role(iam: Any) -> str:
    """The role executors assume with their tenant as a session tag, as in AWS.

    moto answers AssumeRole but does not evaluate policies, so locally this proves the code path
    (every executor call made with the tagged session), while tests/infra proves the policy.
    """
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                     "Action": ["sts:AssumeRole", "sts:TagSession"]}]}
    role = iam.create_role(RoleName="cloutagent-local-tenant-data", AssumeRolePolicyDocument=json.dumps(trust))
    return role["Role"]["Arn"]


def create_claim_queue(sqs: Any) -> str:
    """The executor pool's claim queue, as infra/constructs/executor_pool.py makes it."""
    return sqs.create_queue(QueueName="cloutagent-local-claims",
                            Attributes={"VisibilityTimeout": str(CLAIM_VISIBILITY_SECONDS)})["QueueUrl"]


SCHEDULE_GROUP = "cloutagent-local-schedules"
SCHEDULED_RUN_ARN = "arn:aws:lambda:us-east-1:123456789012:function:cloutagent-local-scheduled_run"


def create_scheduler(scheduler: Any, iam: Any) -> tuple[str, str]:
    """The schedule group and the role Scheduler invokes scheduled_run as, as infra/constructs/schedules.py
    makes them (moto keeps schedules but never fires them: the local scheduler does)."""
    scheduler.create_schedule_group(Name=SCHEDULE_GROUP)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="cloutagent-local-scheduler", AssumeRolePolicyDocument=json.dumps(trust))
    return SCHEDULE_GROUP, role["Role"]["Arn"]


def provision(clients: Any, *, table_name: str = "cloutagent-local") -> LocalResources:
    create_table(clients.client("dynamodb"), table_name)
    pool_id, client_id = create_user_pool(clients.client("cognito-idp"))
    key_id = clients.client("kms").create_key(Description="cloutagent project secrets (local)")["KeyMetadata"]["KeyId"]
    bucket = "cloutagent-sessions-local"
    clients.client("s3").create_bucket(Bucket=bucket)
    create_platform_secrets(clients.client("secretsmanager"))
    role_arn = create_tenant_role(clients.client("iam"))
    queue_url = create_claim_queue(clients.client("sqs"))
    group, scheduler_role = create_scheduler(clients.client("scheduler"), clients.client("iam"))
    return LocalResources(table_name, pool_id, client_id, key_id, bucket, role_arn, claim_queue_url=queue_url,
                          schedule_group=group, scheduler_role_arn=scheduler_role, scheduled_run_arn=SCHEDULED_RUN_ARN)
