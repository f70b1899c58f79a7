"""LangChain's MCP adapters (`langchain-mcp-adapters` on PyPI) loading Navis's tools as LangChain tools.

No model: the tools are invoked directly, as an agent would once its model chose them. Runs in its
own venv (tests/clients/py/.venv-langchain, from requirements-langchain.txt), because the adapters
require the MCP Python SDK 1.x while the other Python clients run 2.x.

Usage: python langchain_client.py <mcp url> <api key>
Prints one JSON line describing what it saw; exits non-zero on any failure.
"""

import asyncio
import json
import sys

from langchain_mcp_adapters.client import MultiServerMCPClient


def text_of(output) -> str:
    """The text a LangChain tool returned (a string, or content blocks)."""
    if isinstance(output, str):
        return output
    return "".join(block["text"] for block in output if block.get("type") == "text")


async def main() -> None:
    url, token = sys.argv[1], sys.argv[2]
    client = MultiServerMCPClient({
        "navis": {"transport": "streamable_http", "url": url, "headers": {"Authorization": f"Bearer {token}"}},
    })
    tools = {t.name: t for t in await client.get_tools()}
    project = json.loads(text_of(await tools["create_project"].ainvoke({"name": "Made through LangChain"})))
    listed = json.loads(text_of(await tools["list_projects"].ainvoke({})))
    today = await client.get_resources("navis", uris="navis://tasks/today")
    prompt = await client.get_prompt("navis", "scaffold_project", arguments={"name": "Garden"})
    print(json.dumps({
        "toolNames": sorted(tools),
        "projectId": project["id"],
        "listedProjectIds": [p["id"] for p in listed["projects"]],
        "todayTaskIds": [t["id"] for t in json.loads(today[0].as_string())["tasks"]],
        "promptText": prompt[0].content,
    }), flush=True)


asyncio.run(main())
