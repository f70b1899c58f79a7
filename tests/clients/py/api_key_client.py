"""The official Python MCP SDK connecting to Navis with an API key over Streamable HTTP.

Usage: python api_key_client.py <mcp url> <api key>
Prints one JSON line describing what it saw; exits non-zero on any failure.
"""

import asyncio
import json
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


async def main() -> None:
    url, token = sys.argv[1], sys.argv[2]
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
        async with Client(streamable_http_client(url, http_client=http), mode="legacy") as client:
            tools = await client.list_tools()
            project = await client.call_tool("create_project", {"name": "Made by the Python SDK"})
            task = await client.call_tool("create_task", {"title": "Python task", "project_id": project.structured_content["id"]})
            resource = await client.read_resource(f"navis://projects/{project.structured_content['id']}/tasks")
            prompt = await client.get_prompt("scaffold_project", {"name": "Garden"})
            print(json.dumps({
                "toolNames": [t.name for t in tools.tools],
                "projectId": project.structured_content["id"],
                "taskId": task.structured_content["id"],
                "projectTaskIds": [t["id"] for t in json.loads(resource.contents[0].text)["tasks"]],
                "promptText": prompt.messages[0].content.text,
            }), flush=True)


asyncio.run(main())
