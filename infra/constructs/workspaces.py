"""The EFS file system holding project workspaces between runs.

One access point, rooted at /workspaces, is what the task definition mounts; the executor works in
``<WORKSPACE_ROOT>/<tenantId>/<projectId>``. An ECS task definition's volumes are fixed, so
per-tenant access points would need one task-definition revision per tenant: docs/operations.md
explains how to create them and why that is not the default.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_kms as kms
from constructs import Construct

# The executor image runs as this user (USER in executor_container/Dockerfile); the access point
# forces it, so files keep one owner whichever task writes them.
WORKSPACE_UID = "10001"
WORKSPACE_GID = "10001"


class Workspaces(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        self.file_system = efs.FileSystem(
            self,
            "FileSystem",
            vpc=vpc,
            vpc_subnets=subnets,
            encrypted=True,
            kms_key=key,
            performance_mode=efs.PerformanceMode.GENERAL_PURPOSE,
            throughput_mode=efs.ThroughputMode.ELASTIC,
            # Idle workspaces move to Infrequent Access, and back on first read.
            lifecycle_policy=efs.LifecyclePolicy.AFTER_30_DAYS,
            out_of_infrequent_access_policy=efs.OutOfInfrequentAccessPolicy.AFTER_1_ACCESS,
            enable_automatic_backups=True,
            removal_policy=removal_policy,
        )
        self.access_point = self.file_system.add_access_point(
            "WorkspacesRoot",
            path="/workspaces",
            create_acl=efs.Acl(owner_uid=WORKSPACE_UID, owner_gid=WORKSPACE_GID, permissions="750"),
            posix_user=efs.PosixUser(uid=WORKSPACE_UID, gid=WORKSPACE_GID),
        )
