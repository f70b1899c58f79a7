"""The OpenAI Agents SDK (`openai-agents` on PyPI) reaching Navis through `MCPServerStreamableHttp`.

No model: the script does what the agent runner does with an MCP server - connect, list the tools,
turn them into the agent's function tools and invoke one as a model's tool call would - and calls
tools, reads a resource and gets a prompt on the server object directly.

Usage: python openai_agents_client.py <mcp url> <api key>
Prints one JSON line describing what it saw; exits non-zero on any failure.
"""

import asyncio
import json
import sys

from agents import Agent, RunContextWrapper
from agents.mcp import MCPServerStreamableHttp
from agents.tool_context import ToolContext


async def main() -> None:
    url, token = sys.argv[1], sys.argv[2]
    async with MCPServerStreamableHttp(
        name="navis",
        params={"url": url, "headers": {"Authorization": f"Bearer {token}"}, "timeout": 10},
    ) as server:
        tools = await server.list_tools()
        project = await server.call_tool("create_project", {"name": "Made by the OpenAI Agents SDK"})
        today = await server.read_resource("navis://tasks/today")
        prompt = await server.get_prompt("scaffold_project", {"name": "Garden"})

        # What the runner hands the model, and what it runs when the model calls list_projects.
        agent = Agent(name="Navis assistant", mcp_servers=[server])
        function_tools = {t.name: t for t in await agent.get_all_tools(RunContextWrapper(context=None))}
        # The tool output the model would be given: the tool result's text.
        listed = await function_tools["list_projects"].on_invoke_tool(
            ToolContext(context=None, tool_name="list_projects", tool_call_id="call_1", tool_arguments="{}"), "{}"
        )
        print(json.dumps({
            "toolNames": [t.name for t in tools],
            "functionToolNames": sorted(function_tools),
            "projectId": project.structured_content["id"],
            "listedProjectIds": [p["id"] for p in json.loads(listed["text"])["projects"]],
            "todayTaskIds": [t["id"] for t in json.loads(today.contents[0].text)["tasks"]],
            "promptText": prompt.messages[0].content.text,
        }), flush=True)


asyncio.run(main())
