"""Messages stored as pages on moto over HTTP: a burst takes a few items, and replay from any seq,
with any filter or read bound, gives every event once, in order, as if each had an item."""

from __future__ import annotations

import json

from cloutagent.adapters.dynamo import keys


def _project(event_for) -> str:
    from functions.projects.handler import handler as projects

    return json.loads(projects(event_for("project.create"))["body"])["data"]["project"]["projectId"]


def _log_with_a_request_among_messages(aws, tenant: str, project: str) -> list[int]:
    """600 messages with a permission.request at 301; the seqs of what was appended."""
    messages = [("execution.message", {"kind": "text", "text": f"line {i} " + "x" * 150}) for i in range(600)]
    events = messages[:300] + [("permission.request", {"requestId": "r1"})] + messages[300:]
    return [e.seq for e in aws.event_log.append(tenant, project, events)]


def _items(aws, tenant: str, project: str) -> list[dict]:
    return list(aws.table.query_all(keys.events_pk(tenant, project)))


def _read_all(aws, tenant: str, project: str, after: int, **kwargs) -> list:
    """Every event after ``after``, following the cursor page by page."""
    out = []
    while after is not None:
        page, after = aws.event_log.read(tenant, project, after_seq=after, **kwargs)
        out += page
    return out


def test_a_burst_of_messages_is_a_few_items_and_the_request_keeps_its_own(aws, event_for, ready, count_aws_calls):
    tenant, project = ready["tenantId"], _project(event_for)
    with count_aws_calls() as counter:
        seqs = _log_with_a_request_among_messages(aws, tenant, project)
    assert seqs == list(range(2, 603))  # project.created is 1
    assert counter.calls["dynamodb.TransactWriteItems"] == 1
    items = _items(aws, tenant, project)
    assert 4 <= len(items) <= 8, [i["SK"] for i in items]  # 601 events; pages of at most 64 KB
    request = [i for i in items if i.get("event") == "permission.request"]
    # the stream consumers' filter (routes.json) finds it by its own ``event``
    assert len(request) == 1 and request[0]["seq"] == 302 and request[0]["SK"] == keys.seq_sk(302)
    assert all(i["SK"] == keys.seq_sk(int(i["firstSeq"]) + len(json.loads(i["page"])) - 1)
               for i in items if "page" in i)  # a page is keyed by its last seq


def test_replay_from_inside_a_page_in_small_pages_gives_each_event_once_in_order(aws, event_for, ready):
    tenant, project = ready["tenantId"], _project(event_for)
    seqs = _log_with_a_request_among_messages(aws, tenant, project)
    for after in (1, 2, 150, 301, 302, 500, 601):
        got = _read_all(aws, tenant, project, after, limit=7)
        assert [e.seq for e in got] == [s for s in seqs if s > after], after
    whole, _ = aws.event_log.read(tenant, project, after_seq=0, limit=1000)
    assert whole[302].event == "execution.message" and whole[301].event == "permission.request"
    assert whole[2].data["text"].startswith("line 1 ")


def test_filters_and_the_read_bound_pick_events_out_of_pages(aws, event_for, ready):
    tenant, project = ready["tenantId"], _project(event_for)
    seqs = _log_with_a_request_among_messages(aws, tenant, project)

    requests = _read_all(aws, tenant, project, 0, limit=10, names=["permission.request"])
    assert [(e.seq, e.event) for e in requests] == [(302, "permission.request")]
    messages = _read_all(aws, tenant, project, 100, limit=50, names=["execution.message"])
    assert [e.seq for e in messages] == [s for s in seqs if s > 100 and s != 302]
    # a bound of one item per call still ends with every event once (the cursor is the item's last seq)
    bounded = _read_all(aws, tenant, project, 0, limit=1000, names=["execution.message", "permission.request"],
                        max_read=1)
    assert [e.seq for e in bounded] == seqs
    later = _read_all(aws, tenant, project, 0, limit=1000, since_ts="9999")
    assert later == []
