"""Invitations a person accepts (#20): inviting creates no user and moves nobody; the person signs up
on their own, sees what is addressed to their email, and lands in no tenant until they accept."""

from __future__ import annotations

import uuid

from tests.conftest import new_user


def an_email(prefix: str = "invitee") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


async def test_an_invited_email_that_signs_up_lands_in_no_tenant_until_it_accepts(connect, make_user, ready):
    # GIVEN an admin of a tenant who invites an email that has no account
    admin_user = make_user()
    admin = await connect(admin_user)
    email = an_email()
    invitation = (await admin.ok("member.invite", {"email": email.upper(), "role": "admin"}))["invitation"]
    assert invitation["email"] == email and invitation["role"] == "admin" and invitation["status"] == "pending"
    assert "tenantId" not in invitation
    assert [m["userId"] for m in (await admin.ok("member.list"))["members"]] == [admin_user["userId"]]

    # WHEN that person signs up through the stack's real sign-up (Cognito, then post-confirmation)
    person = new_user(ready, email)

    # THEN they belong to no tenant: they connect, see the invitation and may do nothing else
    assert person["tenantId"] is None and person["apiKey"] is None
    invitee = await connect(person)
    me = await invitee.ok("whoami")
    assert me["tenantId"] == "" and me["userId"] == person["userId"] and me["displayName"] == email
    assert set(me["allowedActions"]) == {"ping", "health", "whoami", "invitation.mine", "invitation.accept",
                                         "invitation.decline", "tenant.create"}
    [seen] = (await invitee.ok("invitation.mine"))["invitations"]
    assert seen["invitationId"] == invitation["invitationId"] and seen["tenantName"]
    for action, data in [("project.list", {}), ("project.create", {"name": "mine"}), ("member.list", {}),
                         ("project.get", {"projectId": "p_01m7yhdn71hym8npdqztr3q6ap"}), ("apikey.create", {"name": "k"})]:
        assert (await invitee.error(action, data))["code"] == "FORBIDDEN", action

    # WHEN they accept
    member = (await invitee.ok("invitation.accept", {"invitationId": invitation["invitationId"]}))["member"]

    # THEN they are a member with the invited role, as a new connection and the admin both see
    assert member == {**member, "userId": person["userId"], "role": "admin", "email": email}
    again = await connect(person)
    me = await again.ok("whoami")
    assert me["tenantId"] == admin_user["tenantId"] and me["role"] == "admin"
    roles = {m["userId"]: m["role"] for m in (await admin.ok("member.list"))["members"]}
    assert roles == {admin_user["userId"]: "owner", person["userId"]: "admin"}
    [listed] = (await admin.ok("invitation.list"))["invitations"]
    assert listed["status"] == "accepted"
    assert (await invitee.ok("invitation.mine"))["invitations"] == []

    # AND an invitation from another tenant cannot pull them over: one tenant per person
    other = await connect(make_user())
    second = (await other.ok("member.invite", {"email": email, "role": "viewer"}))["invitation"]
    assert [i["invitationId"] for i in (await again.ok("invitation.mine"))["invitations"]] == [second["invitationId"]]
    assert (await again.error("invitation.accept", {"invitationId": second["invitationId"]}))["code"] == "CONFLICT"
    assert (await (await connect(person)).ok("whoami"))["tenantId"] == admin_user["tenantId"]


async def test_a_declined_invitation_moves_nobody_and_another_email_cannot_take_it(connect, make_user, ready):
    # GIVEN two invitations from one tenant (the dev tenant: its plan has seats), both people signed up
    admin = await connect()
    ana, bob = an_email("ana"), an_email("bob")
    for_ana = (await admin.ok("member.invite", {"email": ana, "role": "member"}))["invitation"]
    for_bob = (await admin.ok("member.invite", {"email": bob, "role": "viewer"}))["invitation"]
    ana_client = await connect(new_user(ready, ana))
    bob_client = await connect(new_user(ready, bob))

    # WHEN bob tries ana's invitation, THEN it does not exist for him
    assert (await bob_client.error("invitation.accept", {"invitationId": for_ana["invitationId"]}))["code"] == "NOT_FOUND"
    assert (await bob_client.error("invitation.decline", {"invitationId": for_ana["invitationId"]}))["code"] == "NOT_FOUND"

    # WHEN ana declines hers, THEN it is declined, she is still in no tenant, and it cannot be accepted later
    declined = (await ana_client.ok("invitation.decline", {"invitationId": for_ana["invitationId"]}))["invitation"]
    assert declined["status"] == "declined"
    assert (await ana_client.ok("invitation.mine"))["invitations"] == []
    assert (await ana_client.error("invitation.accept", {"invitationId": for_ana["invitationId"]}))["code"] == "NOT_FOUND"
    assert (await ana_client.ok("whoami"))["tenantId"] == ""
    statuses = {i["email"]: i["status"] for i in (await admin.ok("invitation.list"))["invitations"]
                if i["email"] in (ana, bob)}
    assert statuses == {ana: "declined", bob: "pending"}

    # AND bob's, once revoked by the admin, is gone for him
    assert (await admin.ok("invitation.revoke", {"invitationId": for_bob["invitationId"]}))["invitation"]["email"] == bob
    assert (await bob_client.ok("invitation.mine"))["invitations"] == []


async def test_a_person_in_no_tenant_may_start_their_own_and_a_member_may_not(connect, make_user, ready):
    # GIVEN a person who signed up while invited, and declined
    admin = await connect()
    email = an_email("own")
    offer = (await admin.ok("member.invite", {"email": email}))["invitation"]
    person = new_user(ready, email)
    invitee = await connect(person)
    await invitee.ok("invitation.decline", {"invitationId": offer["invitationId"]})

    # WHEN they start a team of their own
    owner = (await invitee.ok("tenant.create", {"name": "Own team"}))["member"]

    # THEN they own a new tenant (seen once reconnected), and a second one is a conflict
    assert owner["role"] == "owner" and owner["userId"] == person["userId"]
    me = await (await connect(person)).ok("whoami")
    assert me["role"] == "owner" and me["tenantId"] not in ("", ready["tenantId"])
    assert (await invitee.error("tenant.create"))["code"] == "CONFLICT"
    assert (await admin.error("tenant.create"))["code"] == "CONFLICT"


async def test_inviting_twice_or_inviting_a_member_is_a_conflict_and_pending_invitations_hold_seats(
        connect, make_user):
    # GIVEN a free tenant (two seats): its owner, and one pending invitation
    owner_user = make_user()
    owner = await connect(owner_user)
    email = an_email()
    await owner.ok("member.invite", {"email": email})

    # THEN the same email again is a conflict, and a third person finds no free seat
    assert (await owner.error("member.invite", {"email": email}))["code"] == "CONFLICT"
    assert (await owner.error("member.invite", {"email": an_email()}))["code"] in ("LIMIT_EXCEEDED", "PAYMENT_REQUIRED")
    # AND a member's own email is a conflict (the dev shortcut puts one in without a seat check)
    colleague = make_user(tenant_id=owner_user["tenantId"], role="member")
    assert (await owner.error("member.invite", {"email": colleague["email"].upper()}))["code"] == "CONFLICT"


async def test_an_api_key_cannot_answer_invitations(connect, make_user):
    user = make_user()
    robot = await connect(user, api_key=True)
    assert (await robot.error("invitation.mine"))["code"] == "FORBIDDEN"
