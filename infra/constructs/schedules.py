"""Schedules: the stage's EventBridge Scheduler group, and the role its schedules invoke scheduled_run as.

The ``schedules`` function makes and deletes one Scheduler schedule per cloutagent schedule in this
group (``adapters/eventbridge_scheduler.py``), passing this role; Scheduler, as this role, may only
invoke ``scheduled_run``, and only for this account. The grants are handed out where the stack
composes the constructs (``grant_manage``, ``grant_remove``).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from infra import policies

SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"


class Schedules(Construct):
    def __init__(self, scope: Construct, id: str, *, stage: str, target: lambda_.IFunction) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.group_name = f"cloutagent-{stage}"
        self.group = scheduler.CfnScheduleGroup(self, "Group", name=self.group_name)
        # Every schedule of the group (their names are schedule ids, minted at schedule.create).
        self.schedule_arns = stack.format_arn(service="scheduler", resource="schedule",
                                              resource_name=f"{self.group_name}/*",
                                              arn_format=ArnFormat.SLASH_RESOURCE_NAME)
        self.invoke_role = iam.Role(
            self, "InvokeRole",
            assumed_by=iam.ServicePrincipal(SCHEDULER_PRINCIPAL,
                                            conditions={"StringEquals": {"aws:SourceAccount": stack.account}}),
            description=f"cloutagent {stage}: EventBridge Scheduler invokes scheduled_run for a schedule that fired",
        )
        self.invoke_role.add_to_principal_policy(iam.PolicyStatement(
            sid="InvokeScheduledRun", actions=["lambda:InvokeFunction"], resources=[target.function_arn],
        ))
        self.target = target

    @property
    def environment(self) -> dict[str, str]:
        """What ``cloutagent.settings`` reads to make and remove schedules."""
        return {"CLOUTAGENT_SCHEDULE_GROUP": self.group_name,
                "CLOUTAGENT_SCHEDULED_RUN_ARN": self.target.function_arn,
                "CLOUTAGENT_SCHEDULER_ROLE_ARN": self.invoke_role.role_arn}

    def grant_manage(self, role: iam.IRole) -> None:
        """schedule.create / delete: this group's schedules, and passing the invoke role to Scheduler only."""
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="ManageSchedules",
            actions=["scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule"],
            resources=[self.schedule_arns],
        ))
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="PassSchedulerRole", actions=["iam:PassRole"], resources=[self.invoke_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": SCHEDULER_PRINCIPAL}},
        ))
        self._acknowledge(role)

    def grant_remove(self, role: iam.IRole) -> None:
        """scheduled_run removes the clock of a schedule deleted without it (services/schedules.py)."""
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="RemoveOrphanSchedules", actions=["scheduler:DeleteSchedule"], resources=[self.schedule_arns],
        ))
        self._acknowledge(role)

    def _acknowledge(self, role: iam.IRole) -> None:
        policies.acknowledge_wildcard(
            role, self.schedule_arns,
            "Schedule names are schedule ids minted at schedule.create; the pattern is this stage's "
            "schedule group only, whose schedules can only invoke scheduled_run.",
        )
