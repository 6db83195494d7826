"""Project webhooks: the notifier reads the table stream, woken only by the records routes.json names.

The filter (``streamFilter``) lets only new ``permission.request`` and ``execution.finished`` event
items through, so the notifier is not invoked for every write of a busy run. It never reports a
failure (a receiver that is down is retried in-process, then given up), so the retry settings here
only cover the function itself failing: a few tries, then the records are skipped, never a stuck
shard. From LATEST: a recreated mapping should not replay old runs' notifications.
"""

from __future__ import annotations

from typing import Any, Mapping

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct


class Notifications(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        notifier: lambda_.IFunction,
        table: dynamodb.ITable,
        stream_filter: Mapping[str, Any],
    ) -> None:
        super().__init__(scope, id)
        notifier.add_event_source(
            event_sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.LATEST,
                batch_size=10,
                max_batching_window=Duration.seconds(0),  # a waiting run wants its team now
                bisect_batch_on_error=True,
                retry_attempts=2,
                max_record_age=Duration.hours(1),  # a notification hours late is noise
                filters=[lambda_.FilterCriteria.filter(dict(stream_filter))],
            )
        )
