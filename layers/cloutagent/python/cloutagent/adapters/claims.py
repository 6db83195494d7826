"""The executor pool's claim channel: an SQS queue of ids, and who claimed each execution.

A pooled launch sends ``{tenantId, projectId, executionId}`` (ids only, like RunTask overrides:
the executor reads everything else from DynamoDB as its tenant). Idle pool executors long-poll
the queue; the one that receives a claim records itself as the execution's claimer, then deletes
the message. The record is what ``stop`` (a kill) uses to reach the process or task that runs it,
and, indexed on GSI1 by the claimer's ref, what ``task_state`` uses to find the run of a pool task
that stopped (its ECS event names the task, never the execution).

SQS delivers at least once, so two executors may receive the same claim: the record is a
conditional write, and only the executor it names runs the execution.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, ValidationError

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.table import Table, error_code
from cloutagent.domain.base import DomainModel
from cloutagent.domain.executions import Execution
from cloutagent.observability import logger

# A received claim is recorded and deleted within milliseconds; one whose receiver died comes back
# to the queue after this long (infra and the local stack give the queue this visibility timeout).
CLAIM_VISIBILITY_SECONDS = 30
CLAIMED_BY = "claimedBy"  # on the execution's item; the domain model ignores it, the wire never sees it

ID = r"^[A-Za-z0-9_-]{1,128}$"  # what ids.new_id makes; an id also names the claimer's folders


class Claim(DomainModel):
    tenant_id: str = Field(pattern=ID)
    project_id: str = Field(pattern=ID)
    execution_id: str = Field(pattern=ID)
    receipt: str = Field(default="", exclude=True)  # SQS's handle for deleting this delivery


class SqsClaimQueue:
    def __init__(self, client: Any, queue_url: str):
        self.client, self.queue_url = client, queue_url

    def send(self, execution: Execution) -> None:
        claim = Claim(tenant_id=execution.tenant_id, project_id=execution.project_id,
                      execution_id=execution.execution_id)
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(claim.to_wire()))

    def receive(self, wait_seconds: int) -> Claim | None:
        """The next claim, or None when none came within ``wait_seconds`` (a long poll)."""
        reply = self.client.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=1,
                                            WaitTimeSeconds=wait_seconds)
        for message in reply.get("Messages", []):
            try:
                return Claim.model_validate({**json.loads(message["Body"]), "receipt": message["ReceiptHandle"]})
            except (ValueError, ValidationError):
                # Only the launcher sends here; anything else would come back to every executor.
                logger.error("dropping a malformed claim", extra={"message_id": message.get("MessageId")})
                self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return None

    def delete(self, claim: Claim) -> None:
        self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=claim.receipt)


class ClaimRecords:
    """Who claimed an execution: a task ref (``local:<pid>``, an ECS task ARN) on its item."""

    def __init__(self, table: Table):
        self.table = table

    def record(self, claim: Claim, task_ref: str) -> bool:
        """Name ``task_ref`` the claimer; False if the execution is gone or another executor has it."""
        try:
            # The lookup key goes with the name, in the same conditional write: a claim is findable
            # by its task exactly when it is recorded, and only the winner's task finds it.
            self.table.update(
                keys.project_pk(claim.tenant_id, claim.project_id), keys.execution_sk(claim.execution_id),
                "SET #by = :me, GSI1PK = :lookup, GSI1SK = :tenant", names={"#by": CLAIMED_BY},
                vals={":me": task_ref, ":lookup": keys.claim_lookup(task_ref), ":tenant": keys.tenant_pk(claim.tenant_id)},
                condition="attribute_exists(PK) AND (attribute_not_exists(#by) OR #by = :me)",
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def claimer(self, execution: Execution) -> str | None:
        item = self.table.get(keys.project_pk(execution.tenant_id, execution.project_id),
                              keys.execution_sk(execution.execution_id))
        return (item or {}).get(CLAIMED_BY)

    def claims_of(self, task_ref: str) -> list[Claim]:
        """What ``task_ref`` claimed and no finish has cleared yet; empty if it claimed nothing.

        GSI1 is eventually consistent, and a task's ref names at most one claim (one per process).
        Each claim's ids are read from its item's own key, the partition the claimer's tenant
        session wrote it in, never from attributes that could name another tenant.
        """
        found = []
        for item in self.table.query_all(keys.claim_lookup(task_ref), index="GSI1"):
            claim = _claim_at(item["PK"], item["SK"])
            if claim is None or item.get(CLAIMED_BY) != task_ref:
                logger.error("ignoring a claim lookup entry that is not a claimed execution",
                             extra={"pk": item["PK"], "sk": item["SK"]})
                continue
            found.append(claim)
        return found


def _claim_at(pk: str, sk: str) -> Claim | None:
    """The ids of the execution item at (pk, sk), if that is exactly the key keys.py builds for them."""
    tenant_id, _, project_id = pk.removeprefix("T#").partition("#P#")
    execution_id = sk.removeprefix(keys.EXEC_PREFIX)
    try:
        claim = Claim(tenant_id=tenant_id, project_id=project_id, execution_id=execution_id)
    except ValidationError:
        return None
    # Rebuilt with keys.py and compared, so any other item that carried the lookup key is refused.
    exact = (keys.project_pk(tenant_id, project_id), keys.execution_sk(execution_id)) == (pk, sk)
    return claim if exact else None
