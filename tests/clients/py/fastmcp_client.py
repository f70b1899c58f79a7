"""The FastMCP client (`fastmcp` on PyPI) against Navis: with an API key, and with its OAuth helper.

Usage: python fastmcp_client.py api-key <mcp url> <api key>
           prints one JSON line describing what it saw
       NAVIS_SESSION_COOKIE='navis_session=...' python fastmcp_client.py oauth <mcp url>
           `auth="oauth"`, FastMCP's own OAuth helper (registration, PKCE, its loopback callback
           server), with browser.py standing in for the browser it opens; prints one JSON line per
           step and waits for "continue" on stdin between steps
"""

import asyncio
import json
import os
import sys
import time
from urllib.parse import parse_qs, urlparse

from fastmcp import Client

from browser import HeadlessBrowser


def emit(obj: dict) -> None:
    print(json.dumps(obj), flush=True)


async def wait_for_test() -> None:
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def use(client: Client, name: str) -> dict:
    """What a FastMCP user does: list the tools, call a read and a write tool, read a resource, get a prompt."""
    tools = await client.list_tools()
    project = await client.call_tool("create_project", {"name": name})
    listed = await client.call_tool("list_projects", {})
    today = await client.read_resource("navis://tasks/today")
    prompt = await client.get_prompt("scaffold_project", {"name": "Garden"})
    return {
        "toolNames": [t.name for t in tools],
        "projectId": project.structured_content["id"],
        "listedProjectIds": [p["id"] for p in listed.structured_content["projects"]],
        "todayTaskIds": [t["id"] for t in json.loads(today[0].text)["tasks"]],
        "promptText": prompt.messages[0].content.text,
    }


async def api_key(url: str, token: str) -> None:
    async with Client(url, auth=token) as client:
        emit(await use(client, "Made by FastMCP"))


async def oauth(url: str) -> None:
    browser = HeadlessBrowser(os.environ["NAVIS_SESSION_COOKIE"]).install()
    client = Client(url, auth="oauth")
    provider = client.transport.auth
    async with client:
        seen = await use(client, "Made over OAuth by FastMCP")
        params = parse_qs(urlparse(browser.opened[0]).query)
        tokens = provider.context.current_tokens
        emit({
            "step": "connected",
            **seen,
            "browserErrors": browser.errors,
            "resource": params.get("resource", [None])[0],
            "codeChallengeMethod": params.get("code_challenge_method", [None])[0],
            "redirectUri": params.get("redirect_uri", [None])[0],
            "scope": tokens.scope,
            "accessToken": tokens.access_token,
        })

        await wait_for_test()  # the test moves the server's clock past the access token's hour
        # FastMCP (through the MCP SDK's provider) refreshes when its own clock says the token expired.
        provider.context.token_expiry_time = time.time() - 1
        before = provider.context.current_tokens
        listed = await client.call_tool("list_projects", {})
        after = provider.context.current_tokens
        emit({
            "step": "refreshed",
            "accessTokenChanged": after.access_token != before.access_token,
            "refreshTokenChanged": after.refresh_token != before.refresh_token,
            "accessToken": after.access_token,
            "listedProjectIds": [p["id"] for p in listed.structured_content["projects"]],
            "browserOpened": len(browser.opened),
        })
    os._exit(0)


if __name__ == "__main__":
    mode, url = sys.argv[1], sys.argv[2]
    asyncio.run(api_key(url, sys.argv[3]) if mode == "api-key" else oauth(url))
