"""LangChain's own MCP support (`langchain[mcp]` on PyPI: `langchain.mcp.MCPAdapter`, built on FastMCP),
which succeeds `langchain-mcp-adapters`: Navis's tools loaded as LangChain tools and invoked
directly, as an agent would once its model chose them (no model needed).

Usage: python langchain_mcp_client.py <mcp url> <api key>
Prints one JSON line describing what it saw; exits non-zero on any failure.
"""

import asyncio
import json
import sys
import warnings

from fastmcp import Client
from langchain_core._api import LangChainBetaWarning

warnings.filterwarnings("ignore", category=LangChainBetaWarning)  # langchain.mcp says it is in beta
from langchain.mcp import MCPAdapter  # noqa: E402


def text_of(output) -> str:
    """The text a LangChain tool returned (a string, or content blocks)."""
    if isinstance(output, str):
        return output
    return "".join(block["text"] for block in output if block.get("type") == "text")


async def main() -> None:
    url, token = sys.argv[1], sys.argv[2]
    async with MCPAdapter(Client(url, auth=token)) as adapter:
        tools = {t.name: t for t in await adapter.list_tools()}
        project = json.loads(text_of(await tools["create_project"].ainvoke({"name": "Made through langchain.mcp"})))
        listed = json.loads(text_of(await tools["list_projects"].ainvoke({})))
        # Resources and prompts: through the adapter's FastMCP client, as LangChain documents.
        today = await adapter.client.read_resource("navis://tasks/today")
        prompt = await adapter.client.get_prompt("scaffold_project", {"name": "Garden"})
        print(json.dumps({
            "toolNames": sorted(tools),
            "projectId": project["id"],
            "listedProjectIds": [p["id"] for p in listed["projects"]],
            "todayTaskIds": [t["id"] for t in json.loads(today[0].text)["tasks"]],
            "promptText": prompt.messages[0].content.text,
        }), flush=True)


asyncio.run(main())
