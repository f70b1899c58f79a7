// The official TypeScript MCP SDK, connecting to Navis with an API key over Streamable HTTP.
// Usage: node api-key-client.mjs <mcp url> <api key>
// Prints one JSON line describing what it saw; exits non-zero on any failure.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error("usage: node api-key-client.mjs <mcp url> <api key>");
  process.exit(2);
}

const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
const client = new Client({ name: "navis-ts-sdk-test", version: "1.0.0" });
await client.connect(transport);

const tools = await client.listTools();
const project = await client.callTool({ name: "create_project", arguments: { name: "Launch from the TS SDK" } });
if (project.isError) throw new Error(`create_project failed: ${JSON.stringify(project)}`);
const today = new Date().toISOString().slice(0, 10);
const task = await client.callTool({
  name: "create_task",
  arguments: { title: "Write the launch post", project_id: project.structuredContent.id, due_date: today, priority: "high" },
});
if (task.isError) throw new Error(`create_task failed: ${JSON.stringify(task)}`);
const resource = await client.readResource({ uri: "navis://tasks/today" });
const todayTasks = JSON.parse(resource.contents[0].text).tasks;

console.log(JSON.stringify({
  sessionId: transport.sessionId ?? null,
  protocolVersion: transport.protocolVersion ?? null,
  serverName: client.getServerVersion()?.name,
  toolNames: tools.tools.map((t) => t.name),
  projectId: project.structuredContent.id,
  taskId: task.structuredContent.id,
  todayTaskIds: todayTasks.map((t) => t.id),
}));
await client.close();
