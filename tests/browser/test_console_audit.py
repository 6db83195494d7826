"""The console's audit log (#20): an admin sees who changed what; a viewer is not offered it."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.browser


async def test_an_owner_creates_an_expiring_key_and_finds_it_in_the_audit_log(page):
    # GIVEN an owner who creates a key that expires in 7 days
    await page.get_by_role("button", name="Members & keys").click()
    name = f"audited-{uuid.uuid4().hex[:6]}"
    await page.get_by_label("New key").fill(name)
    await page.get_by_label("expires in").fill("7")
    await page.get_by_role("button", name="Create key").click()
    key_row = page.get_by_role("row").filter(has_text=name)
    await key_row.wait_for()
    assert "never" not in await key_row.inner_text()  # it shows its expiry date
    key = (await page.locator("#new-key-value").inner_text()).strip()

    # WHEN they open the audit log
    await page.get_by_role("button", name="Audit log").click()

    # THEN the creation is there, by them, with the key's name and never the key
    entry = page.locator("#audit-entries tr").filter(has_text=name).first
    await entry.wait_for()
    text = await entry.inner_text()
    assert "apikey.create" in text and "expiresAt" in text and key not in text


async def test_a_viewer_is_not_offered_the_audit_log(browser, ready, make_user):
    viewer = make_user(tenant_id=ready["tenantId"], role="viewer", prefix="console-audit-viewer")
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
        assert not await page.get_by_role("button", name="Audit log").is_visible()
    finally:
        await context.close()
