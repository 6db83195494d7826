"""Signing in through Cognito's hosted UI (authorization code + PKCE + state), and staying signed
in past the access token's hour. Cognito is played by Playwright routes on a fake domain; the
tokens are real ones of the local stack (its users' Cognito JWTs, signed by moto)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.parse
import urllib.request

import pytest

from tests.support import tokens

pytestmark = pytest.mark.browser

DOMAIN = "https://auth.cloutagent.test"


def http(url: str, method: str) -> int:
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as reply:
        return reply.status


async def _fake_cognito(context, ready, issued, *, tamper_state=False, expires_in=3600):
    """Routes for the hosted UI: /authorize answers with a code at once; /token hands out
    ``tokens`` in turn (first for the code, valid ``expires_in`` s, then one per refresh, an hour)."""
    seen: list[dict] = []

    async def authorize(route):
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(route.request.url).query))
        seen.append({"authorize": query})
        state = "forged" if tamper_state else query["state"]
        back = f"{query['redirect_uri']}?{urllib.parse.urlencode({'code': 'c0de', 'state': state})}"
        await route.fulfill(status=302, headers={"Location": back})

    async def token(route):
        form = dict(urllib.parse.parse_qsl(route.request.post_data or ""))
        seen.append({"token": form})
        await route.fulfill(status=200, content_type="application/json", headers={"Access-Control-Allow-Origin": "*"},
                            body=json.dumps({"access_token": issued.pop(0), "refresh_token": "r3fresh",
                                             "expires_in": expires_in if len(seen) == 2 else 3600,
                                             "token_type": "Bearer"}))

    await context.route(f"{DOMAIN}/oauth2/authorize**", authorize)
    await context.route(f"{DOMAIN}/oauth2/token", token)
    await context.add_init_script(
        f"window.CLOUTAGENT_CONFIG = {{wsUrl: {json.dumps(ready['wsUrl'])}, "
        f"cognito: {{domain: {json.dumps(DOMAIN)}, clientId: 'console-client'}}}};")
    return seen


@pytest.fixture
async def fresh_page(browser):
    context = await browser.new_context()
    page = await context.new_page()
    page.set_default_timeout(20_000)
    yield context, page
    await context.close()


async def test_pkce_sign_in_checks_state_and_the_session_outlives_its_access_token(fresh_page, ready, make_user):
    context, page = fresh_page
    first, second = make_user(prefix="cognito-a"), make_user(prefix="cognito-b")
    # the first token is valid for 8 s only (signed as Cognito signs, for a real user of the stack):
    # the console refreshes it at once, and must use the new one when it reconnects after 8 s
    short = tokens.signed(tokens.claims_for(ready, sub=first["userId"], exp=int(time.time()) + 8))
    seen = await _fake_cognito(context, ready, [short, second["token"]], expires_in=8)
    await page.goto(f"{ready['httpUrl']}/")
    await page.get_by_role("link", name="Sign in with Cognito").click()
    await page.get_by_role("status").filter(has_text="Connected").wait_for()
    authorize = seen[0]["authorize"]
    assert authorize["code_challenge_method"] == "S256" and len(authorize["state"]) >= 16
    assert seen[1]["token"]["grant_type"] == "authorization_code" and seen[1]["token"]["code_verifier"]
    assert "code=" not in page.url  # the code does not linger in the address bar

    await page.wait_for_function("JSON.parse(sessionStorage.getItem('cloutagent.session')).credentials.token "
                                 f"=== {json.dumps(second['token'])}")
    assert seen[2]["token"] == {"client_id": "console-client", "grant_type": "refresh_token", "refresh_token": "r3fresh"}
    # once the first token has expired, the service drops the connection: the console reconnects
    # with the refreshed token, no new sign-in
    await asyncio.sleep(max(0.0, json.loads(base64.urlsafe_b64decode(short.split(".")[1] + "=="))["exp"]
                            - time.time() + 1))
    pill = page.locator("#connection")
    dropped = await pill.get_attribute("data-connection-id")
    http(f"{ready['httpUrl']}/@connections/{dropped}", "DELETE")
    await page.wait_for_function(f"document.getElementById('connection').dataset.connectionId !== {json.dumps(dropped)}"
                                 " && document.getElementById('connection').textContent.includes('Connected')")
    assert await page.get_by_role("button", name="Sign in with Cognito").count() == 0 or \
        not await page.locator("#sign-in").is_visible()
    # a reload (say, after the hour) signs in with the refreshed token: the session is not lost
    await page.reload()
    await page.get_by_role("status").filter(has_text="Connected").wait_for()
    assert second["email"] in await page.locator("#identity").inner_text() or \
        second["userId"] in await page.locator("#identity").inner_text()


async def test_a_sign_in_whose_state_does_not_match_is_refused(fresh_page, ready, make_user):
    context, page = fresh_page
    seen = await _fake_cognito(context, ready, [make_user(prefix="cognito-c")["token"]], tamper_state=True)
    await page.goto(f"{ready['httpUrl']}/")
    await page.get_by_role("link", name="Sign in with Cognito").click()
    await page.locator("#sign-in-error").filter(has_text="state does not match").wait_for()
    assert not any("token" in step for step in seen)  # the code was never exchanged
