// The Connected Apps page in a real headless Chromium (Debian's, driven by playwright-core):
// sign up, create a key, copy it, see it once, revoke it. Checks the page's script runs under
// its Content-Security-Policy and nothing is blocked. Prints one JSON line; saves a screenshot.
// Usage: node pages-in-chromium.mjs <base url> <screenshot path>
import { chromium } from "playwright-core";

const [base, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext({ permissions: ["clipboard-read", "clipboard-write"] });
const page = await context.newPage();
const problems = [];
page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
page.on("pageerror", (e) => problems.push(String(e)));

await page.goto(`${base}/signup`);
await page.fill('input[name="email"]', "browser@example.com");
await page.fill('input[name="password"]', "correct horse battery");
await page.click('button[type="submit"]');
await page.waitForURL(`${base}/settings/connected-apps`);

await page.fill('input[name="name"]', "Claude Desktop");
await page.check('input[name="scope"][value="write"]');
await page.click('text=Create API key >> nth=-1');
const token = (await page.textContent("#new-token")).trim();
await page.click('button[data-copy="new-token"]');
await page.waitForFunction(() => document.querySelector('button[data-copy="new-token"]').textContent !== "Copy");
const copyLabel = await page.textContent('button[data-copy="new-token"]');
const clipboard = await page.evaluate(() => navigator.clipboard.readText()).catch(() => null);
await page.screenshot({ path: screenshot, fullPage: true });

// Back on the page later: the token is gone, the key is listed.
await page.goto(`${base}/settings/connected-apps`);
const html = await page.content();
const shownAgain = html.includes(token);
const listed = await page.textContent("table.keys tbody");
await page.click('table.keys button:has-text("Revoke")');
await page.waitForURL(`${base}/settings/connected-apps`);
const status = await page.textContent("table.keys tbody td.status-revoked");

// An app asks for access: the consent page, Approve, and the redirect back with a code.
const callback = "http://127.0.0.1:33422/callback";
const registration = await (await fetch(`${base}/oauth/register`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ client_name: "Browser Test App", redirect_uris: [callback] }),
})).json();
const verifier = "browser-test-verifier-0123456789-0123456789-0123456789";
const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
const challenge = Buffer.from(digest).toString("base64url");
const authorize = new URL(`${base}/oauth/authorize`);
for (const [k, v] of Object.entries({ response_type: "code", client_id: registration.client_id, redirect_uri: callback, code_challenge: challenge, code_challenge_method: "S256", state: "st8", scope: "mcp:read mcp:write" })) {
  authorize.searchParams.set(k, v);
}
await page.goto(authorize.toString());
const consentText = await page.textContent("main");
const redirected = page.waitForRequest((r) => r.url().startsWith(callback));
await page.check('input[name="access"][value="read"]');
await page.click('button[value="approve"]');
const redirect = new URL((await redirected).url());
// Nothing listens on the callback: the failed load of that page is expected, not a problem.
const pageProblems = problems.filter((p) => !p.includes("ERR_CONNECTION_REFUSED"));

console.log(JSON.stringify({
  token, copyLabel, clipboard, shownAgain, listed, status, problems: pageProblems,
  consentText, clientId: registration.client_id, code: redirect.searchParams.get("code"), state: redirect.searchParams.get("state"), verifier,
}));
await browser.close();
