"""The person guard against moto (#20): one membership per person is a guarded write, not an index read."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from cloutagent.adapters.dynamo import keys
from cloutagent.domain.models import Invitation, Member, Tenant
from cloutagent.errors import Conflict, NotFound
from cloutagent.ids import iso_millis, new_id, now_iso


def invitation(tenant_id: str, email: str, role: str = "member") -> Invitation:
    now = datetime.now(timezone.utc)
    return Invitation(invitation_id=new_id("i_"), tenant_id=tenant_id, email=email, role=role,
                      created_at=iso_millis(now), expires_at=iso_millis(now + timedelta(days=14)))


def a_tenant(aws) -> str:
    owner = Member(tenant_id=new_id("t_"), user_id=str(uuid.uuid4()), email="o@example.com", role="owner",
                   joined_at=now_iso())
    assert aws.access_store.create_tenant(Tenant(tenant_id=owner.tenant_id, name="t", created_at=now_iso()), owner)
    return owner.tenant_id


def test_two_accepts_by_one_person_leave_one_membership_even_when_the_index_is_not_asked(aws):
    # GIVEN two tenants that invited the same email, and that person
    store, email, sub = aws.access_store, f"p-{uuid.uuid4().hex[:8]}@example.com", str(uuid.uuid4())
    first, second = invitation(a_tenant(aws), email), invitation(a_tenant(aws), email)
    for each in (first, second):
        store.put_invitation(each, now_iso())
    assert {i.invitation_id for i in store.invitations_for(email)} == {first.invitation_id, second.invitation_id}

    # WHEN the adapter is asked to accept both (no find_membership in between, as two racing requests)
    store.accept_invitation(first, Member(tenant_id=first.tenant_id, user_id=sub, email=email, role="member",
                                          joined_at=now_iso()), now_iso())
    with pytest.raises(Conflict):
        store.accept_invitation(second, Member(tenant_id=second.tenant_id, user_id=sub, email=email, role="member",
                                               joined_at=now_iso()), now_iso())

    # THEN the guard names the first tenant, the second tenant has no such member, and its invitation is still open
    guard = aws.access_store.table.get(keys.PERSON_PK, keys.person_sk(sub))
    assert guard["tenantId"] == first.tenant_id
    with pytest.raises(NotFound):
        store.get_member(second.tenant_id, sub)
    assert [i.invitation_id for i in store.invitations_for(email)] == [second.invitation_id]


def test_a_person_with_a_membership_gets_no_tenant_of_their_own_and_removal_frees_them(aws):
    store, sub = aws.access_store, str(uuid.uuid4())
    tenant_id = a_tenant(aws)
    store.add_member(Member(tenant_id=tenant_id, user_id=sub, email="m@example.com", role="member",
                            joined_at=now_iso()))
    # the guard, not the index, refuses a second membership or a tenant of their own
    with pytest.raises(Conflict):
        store.add_member(Member(tenant_id=a_tenant(aws), user_id=sub, email="m@example.com", role="member",
                                joined_at=now_iso()))
    lone = Member(tenant_id=new_id("t_"), user_id=sub, email="m@example.com", role="owner", joined_at=now_iso())
    assert store.create_tenant(Tenant(tenant_id=lone.tenant_id, name="own", created_at=now_iso()), lone) is False
    assert store.get_tenant(lone.tenant_id) is None

    # removing the member frees the person for another tenant
    store.remove_member(tenant_id, sub)
    assert store.table.get(keys.PERSON_PK, keys.person_sk(sub)) is None
    store.add_member(Member(tenant_id=a_tenant(aws), user_id=sub, email="m@example.com", role="member",
                            joined_at=now_iso()))
    with pytest.raises(NotFound):
        store.remove_member(tenant_id, sub)


def test_an_expired_or_closed_invitation_cannot_be_taken(aws):
    store, email = aws.access_store, f"x-{uuid.uuid4().hex[:8]}@example.com"
    tenant_id = a_tenant(aws)
    old = invitation(tenant_id, email).model_copy(update={"expires_at": "2020-01-01T00:00:00.000Z"})
    store.put_invitation(old, now_iso())
    with pytest.raises(NotFound):
        store.accept_invitation(old, Member(tenant_id=tenant_id, user_id=str(uuid.uuid4()), email=email,
                                            role="member", joined_at=now_iso()), now_iso())
    fresh = invitation(tenant_id, email)
    store.put_invitation(fresh, now_iso())  # an expired one does not block a new one
    store.decline_invitation(fresh, now_iso())
    with pytest.raises(NotFound):
        store.decline_invitation(fresh, now_iso())


def test_the_directory_gives_only_a_verified_email(aws):
    cognito, pool = aws.clients.client("cognito-idp"), aws.settings.user_pool_id
    verified, unverified = f"V-{uuid.uuid4().hex[:8]}@Example.com", f"u-{uuid.uuid4().hex[:8]}@example.com"
    for email, flag in ((verified, "true"), (unverified, "false")):
        cognito.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS",
                                  UserAttributes=[{"Name": "email", "Value": email},
                                                  {"Name": "email_verified", "Value": flag}])
    assert aws.directory.verified_email(verified) == verified.lower()
    assert aws.directory.verified_email(unverified) is None
    assert aws.directory.verified_email("nobody-" + uuid.uuid4().hex) is None


def test_an_invitees_requests_are_counted_under_their_own_key_per_second(aws):
    # GIVEN a person with no tenant (their requests cannot be counted in a tenant's partition)
    from cloutagent.adapters.dynamo.rate_counter import DynamoRateCounter

    counter, sub = DynamoRateCounter(aws.table), str(uuid.uuid4())
    # WHEN they send three requests in one second and one in the next
    counts = [counter.count_person(sub, 1_000) for _ in range(3)] + [counter.count_person(sub, 1_001)]
    # THEN each window counts on its own, in an item keyed by the person (in the one non-tenant
    # partition the access function may write) that expires
    assert counts == [1, 2, 3, 1]
    item = aws.table.get(keys.PERSON_PK, keys.person_rate_sk(sub, 1_000))
    assert item["total"] == 3 and item["expiresAt"] > 1_000
    assert counter.count_person(str(uuid.uuid4()), 1_000) == 1  # another person is not held up by them
