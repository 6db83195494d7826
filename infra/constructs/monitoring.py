"""One dashboard and the alarms that page: what to do when each fires is in docs/operations.md.

Execution outcomes are Powertools metrics in the ``cloutagent`` namespace. Powertools puts its
dimensions (the service: the emitting function) on every data point, so the alarm asks Metrics
Insights for the sum across all dimension sets instead of naming one of them. The tenant is never a
dimension (observability.record_metric).
"""

from __future__ import annotations

from typing import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.functions import METRICS_NAMESPACE

# Metric names the executor and task_state emit (the contract with the domain code).
EXECUTION_STARTED = "ExecutionStarted"
EXECUTION_FAILED = "ExecutionFailed"
AUDIT_RECORD_FAILED = "AuditRecordFailed"  # services/audit.py: a change happened, its audit entry was not written
FIVE_MINUTES = Duration.minutes(5)
# The function that reads the usage outbox off the table's stream, and how far behind it may fall.
USAGE_STREAM_CONSUMER = "usage_reporter"
USAGE_STREAM_MAX_AGE = Duration.minutes(10)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: str,
        functions: Mapping[str, lambda_.IFunction],
        websocket_api: apigwv2.IWebSocketApi,
        websocket_stage: str,
        webhook_api: apigwv2.IHttpApi,
        dead_letter_queues: Mapping[str, sqs.IQueue],
        table: dynamodb.ITable,
        cluster: ecs.ICluster,
        alarm_email: str,
    ) -> None:
        super().__init__(scope, id)
        self._prefix = f"cloutagent-{stage}"
        self.topic = sns.Topic(self, "Alarms", display_name=f"cloutagent {stage} alarms", enforce_ssl=True)
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self._action = cw_actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []

        for name, fn in functions.items():
            self._alarm(
                f"{name}-errors",
                fn.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                f"Function {name} raised errors (unhandled exceptions or timeouts).",
            )
            self._alarm(
                f"{name}-throttles",
                fn.metric_throttles(period=FIVE_MINUTES, statistic="Sum"),
                f"Function {name} was throttled: concurrency limit reached.",
            )

        execution_failures = cloudwatch.MathExpression(
            expression=f'SELECT SUM("{EXECUTION_FAILED}") FROM "{METRICS_NAMESPACE}"',
            label="Failed executions",
            period=FIVE_MINUTES,
        )
        self._alarm(
            "execution-failures",
            execution_failures,
            "Claude Code executions failed (ExecutionFailed metric from the executor / task_state).",
        )

        self._alarm(
            "audit-record-failures",
            cloudwatch.MathExpression(
                expression=f'SELECT SUM("{AUDIT_RECORD_FAILED}") FROM "{METRICS_NAMESPACE}"',
                label="Audit entries not written", period=FIVE_MINUTES,
            ),
            "A member, key or plan change happened but its audit log entry was not written (AuditRecordFailed).",
        )

        webhook_5xx = webhook_api.metric_server_error(period=FIVE_MINUTES, statistic="Sum")
        self._alarm(
            "stripe-webhook-5xx",
            webhook_5xx,
            "The Stripe webhook answered 5xx: Stripe will retry, but events are not being processed.",
        )
        webhook_4xx = webhook_api.metric_client_error(period=Duration.hours(1), statistic="Sum")
        self._alarm(
            "stripe-webhook-rejected",
            webhook_4xx,
            "Many Stripe webhook requests were rejected (4xx): usually a wrong signing secret.",
            threshold=10,
        )

        if USAGE_STREAM_CONSUMER in functions:
            # The usage outbox's stream: a record this old has not reached Stripe's meter yet, and the
            # stream keeps records 24 hours only (the schedule's sweep is the backstop, not the path).
            self._alarm(
                "usage-stream-iterator-age",
                functions[USAGE_STREAM_CONSUMER].metric("IteratorAge", period=FIVE_MINUTES, statistic="Maximum"),
                f"{USAGE_STREAM_CONSUMER} is behind on the table's stream: usage is not being metered.",
                threshold=USAGE_STREAM_MAX_AGE.to_milliseconds(),
            )

        for name, queue in dead_letter_queues.items():
            self._alarm(
                f"{name}-dlq",
                queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum"),
                f"Messages are waiting in the {name} dead-letter queue.",
            )

        self.dashboard = self._dashboard(
            functions=functions,
            websocket_api=websocket_api,
            websocket_stage=websocket_stage,
            webhook_metrics=(webhook_4xx, webhook_5xx),
            execution_failures=execution_failures,
            dead_letter_queues=dead_letter_queues,
            table=table,
            cluster=cluster,
        )

    def _alarm(self, name: str, metric: cloudwatch.IMetric, description: str, threshold: float = 1) -> None:
        alarm = cloudwatch.Alarm(
            self,
            f"{name}-alarm",
            alarm_name=f"{self._prefix}-{name}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            # No data means nothing happened, not that something broke.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)

    def _dashboard(
        self,
        *,
        functions: Mapping[str, lambda_.IFunction],
        websocket_api: apigwv2.IWebSocketApi,
        websocket_stage: str,
        webhook_metrics: tuple[cloudwatch.IMetric, cloudwatch.IMetric],
        execution_failures: cloudwatch.IMetric,
        dead_letter_queues: Mapping[str, sqs.IQueue],
        table: dynamodb.ITable,
        cluster: ecs.ICluster,
    ) -> cloudwatch.Dashboard:
        def ws(metric_name: str, label: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/ApiGateway",
                metric_name=metric_name,
                dimensions_map={"ApiId": websocket_api.api_id, "Stage": websocket_stage},
                statistic="Sum",
                period=FIVE_MINUTES,
                label=label,
            )

        def per_function(title: str, metric: str, statistic: str) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(
                title=title,
                width=12,
                left=[
                    fn.metric(metric, period=FIVE_MINUTES, statistic=statistic, label=name)
                    for name, fn in functions.items()
                ],
            )

        execution_started = cloudwatch.MathExpression(
            expression=f'SELECT SUM("{EXECUTION_STARTED}") FROM "{METRICS_NAMESPACE}"',
            label="Started executions",
            period=FIVE_MINUTES,
        )
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=self._prefix)
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24, height=4),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="WebSocket traffic",
                width=12,
                left=[ws("ConnectCount", "connects"), ws("MessageCount", "messages")],
            ),
            cloudwatch.GraphWidget(
                title="WebSocket errors",
                width=12,
                left=[
                    ws("ClientError", "client errors"),
                    ws("IntegrationError", "integration errors"),
                    ws("ExecutionError", "execution errors"),
                ],
            ),
        )
        dashboard.add_widgets(
            per_function("Function errors", "Errors", "Sum"),
            per_function("Function throttles", "Throttles", "Sum"),
        )
        dashboard.add_widgets(
            per_function("Function duration p95 (ms)", "Duration", "p95"),
            per_function("Function concurrency", "ConcurrentExecutions", "Maximum"),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Executions",
                width=12,
                left=[execution_started, execution_failures],
            ),
            cloudwatch.GraphWidget(
                title="Executor tasks",
                width=12,
                left=[
                    cloudwatch.Metric(
                        namespace="ECS/ContainerInsights",
                        metric_name="RunningTaskCount",
                        dimensions_map={"ClusterName": cluster.cluster_name},
                        statistic="Maximum",
                        period=FIVE_MINUTES,
                        label="running tasks",
                    )
                ],
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Stripe webhook responses",
                width=8,
                left=[webhook_metrics[0].with_(label="4xx"), webhook_metrics[1].with_(label="5xx")],
            ),
            cloudwatch.GraphWidget(
                title="Dead-letter queues",
                width=8,
                left=[
                    q.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum", label=n)
                    for n, q in dead_letter_queues.items()
                ],
            ),
            cloudwatch.GraphWidget(
                title="Table throttles and errors",
                width=8,
                left=[
                    table.metric("ThrottledRequests", period=FIVE_MINUTES, statistic="Sum", label="throttled"),
                    table.metric_system_errors_for_operations(period=FIVE_MINUTES, label="system errors"),
                ],
            ),
        )
        return dashboard
