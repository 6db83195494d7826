"""The event log under contention, on moto over HTTP: many writers on one project's lastSeq."""

from __future__ import annotations

import json
import time
import threading
from concurrent.futures import ThreadPoolExecutor

from cloutagent.domain.changes import ProjectChange
from cloutagent.errors import ExpectationFailed, ProjectNotFound


def _project(event_for) -> str:
    from functions.projects.handler import handler as projects

    return json.loads(projects(event_for("project.create"))["body"])["data"]["project"]["projectId"]


def _race(aws, tenant: str, project: str, logs: list) -> list[int]:
    """Each log appends five events at once with the others, from its own thread."""
    barrier = threading.Barrier(len(logs))

    def writer(n: int) -> list[int]:
        barrier.wait()
        return [logs[n].append(tenant, project, [("member.joined", {"n": n, "i": i})])[0].seq for i in range(5)]

    with ThreadPoolExecutor(len(logs)) as pool:
        return sorted(s for got in pool.map(writer, range(len(logs))) for s in got)


def test_writers_in_separate_processes_race_gap_free_and_a_lost_race_costs_one_write(aws, event_for, ready,
                                                                                    count_aws_calls):
    from cloutagent.adapters.dynamo.events import DynamoEventLog

    tenant, project = ready["tenantId"], _project(event_for)
    start = aws.event_log.last_seq(tenant, project)
    # a log each, as separate Lambda environments or executors have
    logs = [DynamoEventLog(aws.table, retention_days=1) for _ in range(8)]
    with count_aws_calls() as counter:
        seqs = _race(aws, tenant, project, logs)

    assert seqs == list(range(start + 1, start + 41))  # every append got its own number, none skipped
    writes, reads = counter.calls["dynamodb.TransactWriteItems"], counter.calls["dynamodb.GetItem"]
    assert writes > 40, "the writers never collided: this test proves nothing"
    # The first try of each append reads lastSeq; a lost race learns it from its own cancelled
    # write (ALL_OLD), so a retry is a write alone.
    assert reads == 40, counter.calls


def test_writers_sharing_a_process_take_turns_instead_of_losing_races(aws, event_for, ready, count_aws_calls):
    tenant, project = ready["tenantId"], _project(event_for)
    start = aws.event_log.last_seq(tenant, project)
    with count_aws_calls() as counter:
        seqs = _race(aws, tenant, project, [aws.event_log] * 8)  # the local stack's handlers share one
    assert seqs == list(range(start + 1, start + 41))
    assert counter.calls["dynamodb.TransactWriteItems"] == 40, counter.calls


def test_a_lost_race_still_tells_a_failed_expectation_and_a_missing_project_apart(aws, event_for, ready):
    tenant, project = ready["tenantId"], _project(event_for)
    seq = aws.event_log.last_seq(tenant, project)
    aws.event_log.append(tenant, project, [("x", {})])  # someone else moved lastSeq on

    stale_and_wrong = ProjectChange(expect={"state": "running"})
    try:
        aws.event_log.append(tenant, project, [("y", {})], last_seq=seq, change=stale_and_wrong)
        raise AssertionError("an unmet expectation was written")
    except ExpectationFailed:
        pass
    try:
        aws.event_log.append(tenant, "p_gone", [("y", {})], last_seq=seq)
        raise AssertionError("an event was written to a project that does not exist")
    except ProjectNotFound:
        pass
    assert aws.event_log.last_seq(tenant, project) == seq + 1


class AlwaysBeaten:
    """The real (moto) client, but another writer appends just before each of this one's writes."""

    def __init__(self, real, rival):
        self.real, self.rival, self.tries = real, rival, 0

    def transact_write_items(self, **kwargs):
        self.tries += 1
        self.rival()
        return self.real.transact_write_items(**kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_writer_that_keeps_losing_gets_conflict_when_its_time_is_up_not_a_hung_call(aws, event_for, ready):
    from cloutagent.adapters.dynamo.events import DynamoEventLog
    from cloutagent.adapters.dynamo.table import Table
    from cloutagent.errors import Conflict

    tenant, project = ready["tenantId"], _project(event_for)
    beaten = AlwaysBeaten(aws.clients.dynamodb(), lambda: aws.event_log.append(tenant, project, [("rival", {})]))
    log = DynamoEventLog(Table(beaten, aws.settings.table_name), retention_days=1, contention_seconds=0.5)

    started = time.monotonic()
    try:
        log.append(tenant, project, [("loser", {})])
        raise AssertionError("a write that always loses its race was stored")
    except Conflict:
        pass
    assert time.monotonic() - started < 0.5 + 1.0  # its window, plus one last try in flight
    assert beaten.tries > 1  # it did wait out the others for a while
    events, _ = aws.event_log.read(tenant, project, after_seq=0, limit=500)
    assert [e.event for e in events].count("loser") == 0 and [e.event for e in events].count("rival") == beaten.tries
