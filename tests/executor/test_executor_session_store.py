"""S3SessionStore against moto's S3 served over HTTP, and a resume that goes through it."""

from __future__ import annotations

import uuid

from claude_agent_sdk import project_key_for_directory
from claude_agent_sdk.testing import run_session_store_conformance

from cloutagent_executor.session_store import S3SessionStore


async def test_s3_store_passes_the_sdk_conformance_suite(s3_client, sessions_bucket):
    # GIVEN a fresh prefix per contract, all in one bucket (so scoping is tested too)
    def make_store() -> S3SessionStore:
        return S3SessionStore(s3_client, sessions_bucket, prefix=f"conformance/{uuid.uuid4().hex}/")

    # WHEN / THEN every contract holds, optional methods included
    await run_session_store_conformance(make_store)


async def test_stores_under_different_prefixes_do_not_see_each_other(s3_client, sessions_bucket):
    # GIVEN two tenants' stores in one bucket
    tenant_a = S3SessionStore(s3_client, sessions_bucket, prefix="tenant-a")
    tenant_b = S3SessionStore(s3_client, sessions_bucket, prefix="tenant-b/")
    key = {"project_key": "proj", "session_id": "s1"}
    # WHEN one appends
    await tenant_a.append(key, [{"type": "user", "uuid": "u1"}])
    # THEN only it can load or list the session
    assert await tenant_a.load(key) == [{"type": "user", "uuid": "u1"}]
    assert await tenant_b.load(key) is None
    assert await tenant_b.list_sessions("proj") == []


async def test_a_retried_batch_is_loaded_once(s3_client, sessions_bucket):
    # GIVEN a batch the SDK appended twice after a partial failure
    store = S3SessionStore(s3_client, sessions_bucket)
    key = {"project_key": "proj", "session_id": "s1"}
    batch = [{"type": "user", "uuid": "u1"}, {"type": "assistant", "uuid": "a1"}]
    await store.append(key, batch)
    await store.append(key, batch)
    # THEN loading yields each entry once (entries without a uuid are kept as written)
    assert await store.load(key) == batch


async def test_keys_that_look_like_paths_stay_inside_their_session(s3_client, sessions_bucket):
    # GIVEN ids containing slashes and dots
    store = S3SessionStore(s3_client, sessions_bucket)
    sneaky = {"project_key": "proj/../other", "session_id": "a/b"}
    await store.append(sneaky, [{"type": "x", "n": 1}])
    # THEN they round-trip and cannot reach a neighbour's keys
    assert await store.load(sneaky) == [{"type": "x", "n": 1}]
    assert await store.list_sessions("proj") == []
    assert [s["session_id"] for s in await store.list_sessions("proj/../other")] == ["a/b"]


async def test_a_session_resumes_from_s3_on_a_fresh_machine(agent, s3_client, sessions_bucket, tmp_path):
    # GIVEN a run whose transcript was mirrored to S3, with a config dir nobody else will see
    store = S3SessionStore(s3_client, sessions_bucket)
    config = {"CLAUDE_CONFIG_DIR": str(tmp_path / "claude-config")}
    first = await agent.run("Start", session_store=store, env=config)
    key = {"project_key": project_key_for_directory(str(agent.cwd)), "session_id": first.session_id}
    mirrored = await store.load(key)
    assert first.status == "completed" and any(entry["type"] == "user" for entry in mirrored)

    # WHEN a second run resumes it from the store alone
    second = await agent.run("Continue", session_store=store, env=config, resume_session_id=first.session_id)

    # THEN the model received the earlier conversation (its 4 user/assistant messages: prompt,
    # tool call, tool result, reply), and the new turn was appended to the stored transcript
    assert second.status == "completed" and second.session_id == first.session_id
    assert agent.texts()[0].startswith("Resumed session with 4 earlier transcript entries.")
    after = await store.load(key)
    assert after[: len(mirrored)] == mirrored and len(after) > len(mirrored)
