"""The official Python MCP SDK (`mcp` on PyPI) running the whole OAuth flow against Navis, headless.

Discovery from a 401, registration, authorization with PKCE and resource (the consent form posted
as the user's browser would), token exchange, a tool call, a refresh, and - after the test clicks
Disconnect - the 401 and the failed refresh.

Usage: NAVIS_SESSION_COOKIE='navis_session=...' python oauth_client.py <mcp url>
Prints one JSON line per step; between steps waits for "continue" on stdin.
"""

import asyncio
import html
import json
import os
import re
import sys
import time
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

SERVER = sys.argv[1]
REDIRECT = "http://127.0.0.1:33419/callback"
SESSION = os.environ["NAVIS_SESSION_COOKIE"]
log: list[dict] = []
captured: dict = {}
allow_reauthorization = True
reauthorization_requested = 0


class Memory(TokenStorage):
    tokens = None
    client = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, client_info):
        self.client = client_info


async def redirect_handler(authorization_url: str) -> None:
    """The user's browser: open the consent page with the session cookie and click Approve."""
    global reauthorization_requested
    reauthorization_requested += 1
    captured.clear()
    captured["authorization_url"] = authorization_url
    if not allow_reauthorization:
        raise RuntimeError("re-authorization requested after Disconnect")
    async with httpx2.AsyncClient(follow_redirects=False) as http:
        page = await http.get(authorization_url, headers={"cookie": SESSION})
        assert page.status_code == 200, f"expected the consent page, got {page.status_code}"
        cookies = [SESSION] + [c.split(";")[0] for c in page.headers.get_list("set-cookie")]
        # The form's action is the page's own path (under the public URL's prefix, if it has one).
        action, form = re.search(r'<form method="post" action="([^"]*/oauth/authorize)">(.*?)</form>', page.text, re.S).groups()
        fields = {k: html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)}
        fields.update(access="write", decision="approve")
        answer = await http.post(
            urljoin(authorization_url, action),
            content=urlencode(fields),
            headers={"content-type": "application/x-www-form-urlencoded", "cookie": "; ".join(cookies)},
        )
        query = parse_qs(urlparse(answer.headers["location"]).query)
        captured.update(code=query["code"][0], state=query.get("state", [None])[0], iss=query.get("iss", [None])[0])


async def callback_handler() -> AuthorizationCodeResult:
    return AuthorizationCodeResult(code=captured["code"], state=captured["state"], iss=captured["iss"])


async def record(response: httpx2.Response) -> None:
    request = response.request
    body = request.content.decode() if request.content else ""
    grant = parse_qs(body).get("grant_type", [None])[0] if "x-www-form-urlencoded" in request.headers.get("content-type", "") else None
    log.append({"url": str(request.url), "status": response.status_code, "grant_type": grant})


async def wait_for_test() -> None:
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


def emit(obj: dict) -> None:
    print(json.dumps(obj), flush=True)


async def main() -> None:
    global allow_reauthorization
    storage = Memory()
    oauth = OAuthClientProvider(
        server_url=SERVER,
        storage=storage,
        client_metadata=OAuthClientMetadata(
            client_name="Python SDK e2e",
            redirect_uris=[REDIRECT],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    async with httpx2.AsyncClient(auth=oauth, event_hooks={"response": [record]}) as http:
        async with Client(streamable_http_client(SERVER, http_client=http), mode="legacy") as client:
            tools = await client.list_tools()
            project = await client.call_tool("create_project", {"name": "Made over OAuth by the Python SDK"})
            auth_url = urlparse(captured["authorization_url"])
            params = parse_qs(auth_url.query)
            emit({
                "step": "connected",
                "resource": params.get("resource", [None])[0],
                "codeChallengeMethod": params.get("code_challenge_method", [None])[0],
                "scope": storage.tokens.scope,
                "toolCount": len(tools.tools),
                "projectId": project.structured_content["id"],
                "accessToken": storage.tokens.access_token,
            })

            await wait_for_test()  # the test moves the server's clock past the access token's hour
            # The SDK refreshes when its own clock says the token expired; let the hour pass here too.
            oauth.context.token_expiry_time = time.time() - 1
            before = storage.tokens
            mark = len(log)
            listed = await client.call_tool("list_projects", {})
            emit({
                "step": "refreshed",
                "sawUnauthorized": any(e["status"] == 401 for e in log[mark:]),
                "refreshCalls": [e["status"] for e in log[mark:] if e["grant_type"] == "refresh_token"],
                "accessTokenChanged": storage.tokens.access_token != before.access_token,
                "refreshTokenChanged": storage.tokens.refresh_token != before.refresh_token,
                "projectIds": [p["id"] for p in listed.structured_content["projects"]],
            })

            await wait_for_test()  # the test clicks Disconnect on the Connected Apps page
            allow_reauthorization = False
            oauth.context.token_expiry_time = time.time() - 1  # so the next call starts with a refresh
            asked_before = reauthorization_requested
            mark = len(log)
            error = None
            try:
                await client.call_tool("list_projects", {})
            except BaseException as e:  # noqa: BLE001 - any failure is what we report
                error = repr(e)
            emit({
                "step": "disconnected",
                "error": error,
                "sawUnauthorized": any(e["status"] == 401 for e in log[mark:]),
                "refreshCalls": [e["status"] for e in log[mark:] if e["grant_type"] == "refresh_token"],
                "reauthorizationRequested": reauthorization_requested > asked_before,
            })
            os._exit(0)


asyncio.run(main())
