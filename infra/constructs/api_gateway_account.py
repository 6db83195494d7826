"""The account-wide role API Gateway needs before a WebSocket stage may write access logs.

It is one setting per account and region, shared by every REST and WebSocket API in it, so the
stack only manages it when told to (context apiGatewayAccountRole=true): in an account where
another stack or a person already set it, a second owner would fight over it.
"""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.nag import acknowledge


class ApiGatewayAccount(Construct):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        role = iam.Role(
            self,
            "CloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway (account-wide) writes REST/WebSocket logs to CloudWatch Logs",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                )
            ],
        )
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "This role serves every API Gateway API in the account and region, whose log groups are "
            "not known here; the AWS-maintained policy is the documented way to grant exactly that.",
        )
        self.account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)
