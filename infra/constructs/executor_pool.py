"""The executor pool's claim queue: only made when ``executorPoolSize`` is above 0.

A pooled launch (``adapters/ecs_launcher.py``) sends each execution's ids here, and idle pool
tasks, started with no ids, long-poll for one (``cloutagent_executor/pool.py``). The pool tasks
are plain RunTask tasks of the executor's own task definition, started by the executions function:
the first launch after a deploy starts the pool along with the task that takes its claim, and every
launch replaces the task its claim takes (docs/operations.md, "The executor pool", says why not a
service and what that leaves open).

The queue holds ids only (as RunTask overrides do), so SQS-managed encryption is enough; the
executions function may only send, the task role may only receive and delete.
"""

from __future__ import annotations

from typing import Mapping

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import acknowledge

# cloutagent.adapters.claims.CLAIM_VISIBILITY_SECONDS: a claim is recorded and deleted within
# milliseconds of its receipt; one whose receiver died returns to the queue after this long.
CLAIM_VISIBILITY = Duration.seconds(30)
# A claim no task took within this long has an execution long since stuck or killed; a late claim
# is harmless (the executor finds the execution not starting and runs nothing), so this only bounds
# what the queue keeps.
CLAIM_RETENTION = Duration.days(1)


class ExecutorPool(Construct):
    def __init__(self, scope: Construct, id: str, *, size: int, container: ecs.ContainerDefinition) -> None:
        super().__init__(scope, id)
        if size <= 0:
            raise ValueError("an executor pool needs a size above 0 (0: no pool, every run cold-starts)")
        self.size = size
        self.queue = sqs.Queue(
            self,
            "Claims",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=CLAIM_VISIBILITY,
            retention_period=CLAIM_RETENTION,
        )
        acknowledge(
            self.queue,
            "AwsSolutions-SQS3",
            "A claim is deleted by the executor that records it; a message received and never deleted "
            "means its receiver died, and must go to the next idle executor, not to a dead-letter queue.",
        )
        # Every executor task learns where to wait; a launched one has ids and never looks.
        container.add_environment("CLOUTAGENT_CLAIM_QUEUE_URL", self.queue.queue_url)

    @property
    def launcher_environment(self) -> Mapping[str, str]:
        """What the executions function needs to launch through the pool."""
        return {"CLOUTAGENT_EXECUTOR_POOL_SIZE": str(self.size), "CLOUTAGENT_CLAIM_QUEUE_URL": self.queue.queue_url}

    def grant_send(self, role: iam.IRole) -> None:
        self.queue.grant(role, "sqs:SendMessage")

    def grant_claim(self, role: iam.IRole) -> None:
        self.queue.grant(role, "sqs:ReceiveMessage", "sqs:DeleteMessage")
