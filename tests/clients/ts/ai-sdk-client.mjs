// The Vercel AI SDK's MCP client (@ai-sdk/mcp, Node ≥ 22) against Navis: with an API key, and
// through the whole OAuth flow with its authProvider (the consent form posted by browser.mjs, as
// the user's browser would).
// No model: `tools()` gives the AI SDK tools a model would be handed, and the script executes
// them as generateText would when the model calls them.
// Usage: node ai-sdk-client.mjs api-key <mcp url> <api key>
//          prints one JSON line describing what it saw
//        NAVIS_SESSION_COOKIE='navis_session=…' node ai-sdk-client.mjs oauth <mcp url>
//          prints one JSON line per step; between steps waits for "continue" on stdin
import { auth, createMCPClient, UnauthorizedError } from "@ai-sdk/mcp";
import { approve, recordingFetch, waitForTest } from "./browser.mjs";

const [mode, url, token] = process.argv.slice(2);
const print = (o) => console.log(JSON.stringify(o));

// What an AI SDK app does: turn the server's tools into AI SDK tools, run a write and a read
// tool as the model's tool calls would (each gives the CallToolResult), read a resource and get
// a prompt.
async function use(client, name) {
  const tools = await client.tools();
  const call = { toolCallId: "call_1", messages: [] };
  const project = await tools.create_project.execute({ name }, call);
  const listed = await tools.list_projects.execute({}, call);
  const today = await client.readResource({ uri: "navis://tasks/today" });
  const prompt = await client.getPrompt({ name: "scaffold_project", arguments: { name: "Garden" } });
  return {
    toolNames: Object.keys(tools),
    projectId: project.structuredContent.id,
    listedProjectIds: listed.structuredContent.projects.map((p) => p.id),
    todayTaskIds: JSON.parse(today.contents[0].text).tasks.map((t) => t.id),
    promptText: prompt.messages[0].content.text,
  };
}

if (mode === "api-key") {
  const client = await createMCPClient({
    transport: { type: "http", url, headers: { Authorization: `Bearer ${token}` } },
  });
  print(await use(client, "Made by the AI SDK"));
  await client.close();
  process.exit(0);
}

// OAuth: the app's provider keeps what the SDK hands it; its redirectToAuthorization is where an
// app opens the browser - here browser.mjs approves and we keep the code the redirect carries.
const REDIRECT = "http://127.0.0.1:33420/callback";
const log = [];
const fetchFn = recordingFetch(log);
class HeadlessProvider {
  get redirectUrl() { return REDIRECT; }
  get clientMetadata() {
    return { client_name: "AI SDK e2e", redirect_uris: [REDIRECT], grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], token_endpoint_auth_method: "none" };
  }
  state() { return (this._state = crypto.randomUUID()); }
  clientInformation() { return this._client; }
  saveClientInformation(c) { this._client = c; }
  tokens() { return this._tokens; }
  saveTokens(t) { this._tokens = t; }
  saveCodeVerifier(v) { this._verifier = v; }
  codeVerifier() { return this._verifier; }
  invalidateCredentials(scope) {
    if (scope === "all" || scope === "tokens") this._tokens = undefined;
    if (scope === "all" || scope === "client") this._client = undefined;
    if (scope === "all" || scope === "verifier") this._verifier = undefined;
  }
  async redirectToAuthorization(authorizationUrl) {
    this.authorizationUrl = authorizationUrl;
    this.callback = await approve(authorizationUrl, process.env.NAVIS_SESSION_COOKIE);
  }
}

const provider = new HeadlessProvider();
const connect = () => createMCPClient({ transport: { type: "http", url, authProvider: provider, fetch: fetchFn } });
let client;
try {
  client = await connect();
} catch (e) {
  if (!(e instanceof UnauthorizedError) && !provider.callback) throw e;
  const callback = provider.callback;
  if (callback.searchParams.get("state") !== provider._state) throw new Error("state mismatch");
  await auth(provider, {
    serverUrl: url,
    authorizationCode: callback.searchParams.get("code"),
    callbackState: callback.searchParams.get("state"),
    callbackIssuer: callback.searchParams.get("iss") ?? undefined,
    fetchFn,
  });
  client = await connect();
}
const seen = await use(client, "Made over OAuth by the AI SDK");
const authorizationUrl = new URL(provider.authorizationUrl);
print({
  step: "connected",
  ...seen,
  resource: authorizationUrl.searchParams.get("resource"),
  codeChallengeMethod: authorizationUrl.searchParams.get("code_challenge_method"),
  scope: provider.tokens()?.scope,
  accessToken: provider.tokens()?.access_token,
});

await waitForTest(); // the test moves the server's clock past the access token's hour
const before = provider.tokens();
const mark = log.length;
const tools = await client.tools();
const listed = await tools.list_projects.execute({}, { toolCallId: "call_2", messages: [] });
print({
  step: "refreshed",
  sawUnauthorized: log.slice(mark).some((e) => e.status === 401),
  refreshCalls: log.slice(mark).filter((e) => e.grantType === "refresh_token").map((e) => e.status),
  accessTokenChanged: provider.tokens()?.access_token !== before.access_token,
  refreshTokenChanged: provider.tokens()?.refresh_token !== before.refresh_token,
  accessToken: provider.tokens()?.access_token,
  listedProjectIds: listed.structuredContent.projects.map((p) => p.id),
});
process.exit(0);
