"""The console's team screens, and controls that follow the signed-in role (whoami's allowedActions)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

pytestmark = pytest.mark.browser


async def test_an_owner_invites_sets_a_role_creates_a_key_shown_once_and_revokes_it(page, ready, make_user):
    colleague = make_user(tenant_id=ready["tenantId"], role="member", prefix="console-member")
    await page.get_by_role("button", name="Members & keys").click()
    email = f"console-{uuid.uuid4().hex[:8]}@example.com"
    await page.get_by_label("Invite").fill(email)
    await page.get_by_role("button", name="Invite").click()
    # an invitation is pending until the person accepts it: it is not a member yet
    pending = page.locator("#sent-invitations tr").filter(has_text=email)
    await pending.filter(has_text="pending").wait_for()
    assert await page.locator("#members tr").filter(has_text=email).count() == 0
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.get_by_role("button", name=f"Revoke the invitation of {email}").click()
    await pending.wait_for(state="detached")

    await page.get_by_label(f"Role of {colleague['email']}").select_option("viewer")
    await page.get_by_role("status").filter(has_text=f"{colleague['email']} is now viewer").wait_for()

    name = f"ci-{uuid.uuid4().hex[:6]}"
    await page.get_by_label("New key").fill(name)
    await page.get_by_role("button", name="Create key").click()
    await page.locator("#new-key").wait_for()
    key = (await page.locator("#new-key-value").inner_text()).strip()
    assert key.startswith("cla_")
    key_row = page.get_by_role("row").filter(has_text=name)
    await key_row.wait_for()
    assert key not in await key_row.inner_text()  # the list shows a prefix, never the key
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.get_by_role("button", name=f"Revoke {name}").click()
    await key_row.get_by_role("button").wait_for(state="detached")  # revoked: nothing left to do with it


async def test_an_invited_person_signs_in_sees_the_invitation_and_joins_by_accepting_it(browser, ready, connect):
    from tests.conftest import new_user

    # GIVEN an invitation from the dev tenant, and the invited person signed up (no tenant of their own)
    email = f"console-invitee-{uuid.uuid4().hex[:8]}@example.com"
    owner = await connect()
    await owner.ok("member.invite", {"email": email, "role": "viewer"})
    person = new_user(ready, email)
    context = await browser.new_context()
    page = await context.new_page()
    page.set_default_timeout(20_000)
    try:
        # WHEN they sign in with their token
        await page.goto(f"{ready['httpUrl']}/")
        await page.get_by_label("WebSocket URL").fill(ready["wsUrl"])
        await page.get_by_label("Cognito access token").check()
        await page.get_by_label("Key or token").fill(person["token"])
        await page.get_by_role("button", name="Connect").click()

        # THEN they see the invitation, and no project or team control
        await page.get_by_role("heading", name="Invitations").wait_for()
        await page.locator("#identity").filter(has_text="no team yet").wait_for()
        row = page.locator("#my-invitations tr").filter(has_text="viewer")
        await row.wait_for()
        assert not await page.get_by_role("button", name="Create project").is_visible()
        assert not await page.get_by_role("button", name="Members & keys").is_visible()

        # WHEN they accept, THEN the console reconnects as the team's new viewer
        await row.get_by_role("button", name="Accept").click()
        await page.locator("#identity").filter(has_text="viewer").wait_for()
        await page.locator("#invitations").wait_for(state="hidden")
        assert (await owner.ok("member.list"))["members"] and any(
            m["email"] == email and m["role"] == "viewer" for m in (await owner.ok("member.list"))["members"])
    finally:
        await context.close()


async def test_a_person_in_no_team_may_start_their_own_from_the_console(browser, ready, connect):
    from tests.conftest import new_user

    email = f"console-own-{uuid.uuid4().hex[:8]}@example.com"
    await (await connect()).ok("member.invite", {"email": email, "role": "viewer"})
    person = new_user(ready, email)
    context = await browser.new_context()
    page = await context.new_page()
    page.set_default_timeout(20_000)
    try:
        await page.goto(f"{ready['httpUrl']}/")
        await page.get_by_label("WebSocket URL").fill(ready["wsUrl"])
        await page.get_by_label("Cognito access token").check()
        await page.get_by_label("Key or token").fill(person["token"])
        await page.get_by_role("button", name="Connect").click()
        await page.get_by_role("button", name="Start a team of my own").click()
        await page.locator("#identity").filter(has_text="owner").wait_for()
        assert await page.get_by_role("button", name="Create project").is_visible()
    finally:
        await context.close()


async def test_an_enterprise_tenant_is_not_offered_a_lower_plan(page):
    await page.get_by_role("button", name="Plan & usage").click()
    await page.locator("#plan").get_by_text("enterprise").first.wait_for()
    assert not await page.get_by_role("button", name="Subscribe").is_visible()
    assert await page.get_by_role("button", name="Manage billing").is_visible()


async def test_a_viewer_sees_no_control_it_cannot_use(browser, ready, make_user):
    viewer = make_user(tenant_id=ready["tenantId"], role="viewer", prefix="console-viewer")
    context = await browser.new_context()
    page = await context.new_page()
    page.set_default_timeout(20_000)
    try:
        await page.goto(f"{ready['httpUrl']}/")
        await page.get_by_label("WebSocket URL").fill(ready["wsUrl"])
        await page.get_by_label("Cognito access token").check()
        await page.get_by_label("Key or token").fill(viewer["token"])
        await page.get_by_role("button", name="Connect").click()
        await page.get_by_role("status").filter(has_text="Connected").wait_for()
        assert not await page.get_by_role("button", name="Create project").is_visible()
        assert not await page.get_by_role("button", name="Plan & usage").is_visible()
        await page.get_by_role("button", name="Members & keys").click()
        await page.get_by_role("heading", name="Members", exact=True).wait_for()
        for hidden in ("Invite", "Create key"):
            assert not await page.get_by_role("button", name=hidden).is_visible()
        assert not await page.get_by_role("heading", name="API keys").is_visible()
        assert await page.locator("#members select").count() == 0  # nobody's role is theirs to change
        projects = page.locator("#project-list .project-link")
        if await projects.count():
            await projects.first.click()
            await page.locator("#project").wait_for()
            await page.wait_for_function("document.getElementById('project-title').textContent.length > 0")
            for hidden in ("Run", "Delete project", "New session", "Kill", "Interrupt"):
                assert not await page.get_by_role("button", name=hidden, exact=True).is_visible(), hidden
            assert not await page.get_by_role("tab", name="Secrets").is_visible()
            assert await page.get_by_role("tab", name="History").is_visible()  # watching is theirs
    finally:
        await context.close()
