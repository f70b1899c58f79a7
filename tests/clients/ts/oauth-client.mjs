// The official TypeScript MCP SDK running the whole OAuth flow against Navis, headless:
// discovery from a 401, registration, authorization with PKCE and resource (the consent form
// posted as the user's browser would), token exchange, a tool call, a refresh — and, after the
// test disconnects the app, the 401 and the failed refresh.
// Usage: NAVIS_SESSION_COOKIE='navis_session=…' node oauth-client.mjs <mcp url>
// Prints one JSON line per step; between steps waits for "continue" on stdin.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { approve, recordingFetch, waitForTest } from "./browser.mjs";

const server = new URL(process.argv[2]);
const REDIRECT = "http://127.0.0.1:33418/callback";
const log = [];
const fetchFn = recordingFetch(log);

class HeadlessProvider {
  allowReauthorization = true;
  reauthorizationRequested = 0;
  get redirectUrl() { return REDIRECT; }
  get clientMetadata() {
    return { client_name: "TS SDK e2e", redirect_uris: [REDIRECT], grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], token_endpoint_auth_method: "none" };
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
  async redirectToAuthorization(url) {
    this.reauthorizationRequested += 1;
    this.authorizationUrl = url;
    if (!this.allowReauthorization) return;
    const location = await approve(url, process.env.NAVIS_SESSION_COOKIE);
    if (location.searchParams.get("state") !== this._state) throw new Error("state mismatch");
    if (location.searchParams.get("iss") === null) throw new Error("no iss in the authorization response");
    this.code = location.searchParams.get("code");
  }
}

const provider = new HeadlessProvider();
const transportOptions = { authProvider: provider, fetch: fetchFn };

async function connect() {
  const first = new Client({ name: "navis-ts-oauth", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(server, transportOptions);
  try {
    await first.connect(transport);
    return first;
  } catch (e) {
    if (!(e instanceof UnauthorizedError) || !provider.code) throw e;
    await transport.finishAuth(provider.code);
    const client = new Client({ name: "navis-ts-oauth", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(server, transportOptions));
    return client;
  }
}

const print = (o) => console.log(JSON.stringify(o));

const client = await connect();
const authorizationUrl = new URL(provider.authorizationUrl);
const tools = await client.listTools();
const project = await client.callTool({ name: "create_project", arguments: { name: "Made over OAuth by the TS SDK" } });
print({
  step: "connected",
  clientId: provider.clientInformation()?.client_id,
  resource: authorizationUrl.searchParams.get("resource"),
  codeChallengeMethod: authorizationUrl.searchParams.get("code_challenge_method"),
  scope: provider.tokens()?.scope,
  toolCount: tools.tools.length,
  projectId: project.structuredContent?.id,
  accessToken: provider.tokens()?.access_token,
});

await waitForTest(); // the test moves the server's clock past the access token's hour
const before = provider.tokens();
const mark = log.length;
const listed = await client.callTool({ name: "list_projects", arguments: {} });
print({
  step: "refreshed",
  sawUnauthorized: log.slice(mark).some((e) => e.status === 401),
  refreshCalls: log.slice(mark).filter((e) => e.grantType === "refresh_token").map((e) => e.status),
  accessTokenChanged: provider.tokens()?.access_token !== before.access_token,
  refreshTokenChanged: provider.tokens()?.refresh_token !== before.refresh_token,
  projectIds: listed.structuredContent?.projects?.map((p) => p.id) ?? [],
});

await waitForTest(); // the test clicks Disconnect on the Connected Apps page
provider.allowReauthorization = false;
const reauthBefore = provider.reauthorizationRequested;
const mark2 = log.length;
let error = null;
try {
  await client.callTool({ name: "list_projects", arguments: {} });
} catch (e) {
  error = String(e?.message ?? e);
}
print({
  step: "disconnected",
  error,
  sawUnauthorized: log.slice(mark2).some((e) => e.status === 401),
  refreshCalls: log.slice(mark2).filter((e) => e.grantType === "refresh_token").map((e) => e.status),
  reauthorizationRequested: provider.reauthorizationRequested > reauthBefore,
});
process.exit(0);
