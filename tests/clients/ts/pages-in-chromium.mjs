// The pages in a real headless Chromium (Debian's, driven by playwright-core), at 1280 px and on a
// 390 px phone (also checked at 360 px): sign up, create a key by keyboard alone, see its token
// once, reload and go back without making another, revoke and disconnect after confirming, form
// errors beside their fields, sign-in and consent for a waiting app with a 100-character name,
// 404, and a form posted from another address than the public URL. On every page: no horizontal
// overflow, no serious or critical axe-core violation, no console error or CSP violation; a
// screenshot of each page at each width goes to the screenshot directory.
// Prints one JSON line. Usage: node pages-in-chromium.mjs <base url> <screenshot dir>
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:http";

const [base, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

const problems = [];
const checks = [];
const facts = {};
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

async function context(viewport) {
  const ctx = await browser.newContext({ viewport, permissions: ["clipboard-read", "clipboard-write"] });
  const page = await ctx.newPage();
  const label = `${viewport.width}px`;
  page.on("console", (m) => {
    const text = m.text();
    // A page answered with an error status on purpose (404, 410, a refused form) is asserted
    // where it happens.
    if (m.type() !== "error" || /the server responded with a status of (400|403|404|405|410)/.test(text)) return;
    problems.push(`${label} ${page.url()}: ${text}`);
  });
  page.on("pageerror", (e) => problems.push(`${label} ${page.url()}: ${e}`));
  page.on("response", (r) => { if (r.url().includes("/assets/") && r.status() !== 200) problems.push(`${label}: ${r.url()} answered ${r.status()}`); });
  return page;
}

const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

// Overflow, accessibility and a screenshot of the page as it is; on a phone, overflow at 360 px too.
async function inspect(page, name) {
  const { width, height } = page.viewportSize();
  const axe = await page.evaluate(axeSource).then(() => page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  }));
  checks.push({ name, width, overflow: await overflow(page), axe });
  await page.screenshot({ path: `${shots}/${name}-${width}.png`, fullPage: true });
  if (width < 400) {
    await page.setViewportSize({ width: 360, height });
    checks.push({ name, width: 360, overflow: await overflow(page), axe: [] });
    await page.setViewportSize({ width, height });
  }
}

// Moves focus with Tab alone until `selector` has it.
async function tabTo(page, selector) {
  for (let i = 0; i < 120; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`Tab never reached ${selector} on ${page.url()}`);
}

// The apps' own callback pages: a listener of the test's, so each redirect loads like a real one.
const apps = createServer((req, res) => { res.writeHead(200, { "content-type": "text/plain" }); res.end("The app got its answer."); });
await new Promise((resolve) => apps.listen(0, "127.0.0.1", resolve));
const appsBase = `http://127.0.0.1:${apps.address().port}`;

// Clicks Approve; returns the URL the browser was sent to.
async function approve(page, callback) {
  await Promise.all([page.waitForURL((url) => url.href.startsWith(callback)), page.click('button[value="approve"]')]);
  return new URL(page.url());
}

const text = async (page, selector) => ((await page.textContent(selector)) ?? "").replace(/\s+/g, " ").trim();
const count = (page, selector) => page.locator(selector).count();

// Registers an OAuth client; returns the authorization URL a client would open.
const verifier = "browser-test-verifier-0123456789-0123456789-0123456789";
const challenge = Buffer.from(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)))).toString("base64url");
async function oauthClient(name, callback) {
  const registration = await (await fetch(`${base}/oauth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_name: name, redirect_uris: [callback] }),
  })).json();
  const url = new URL(`${base}/oauth/authorize`);
  for (const [k, v] of Object.entries({ response_type: "code", client_id: registration.client_id, redirect_uri: callback, code_challenge: challenge, code_challenge_method: "S256", state: "st8", scope: "mcp:read mcp:write" })) {
    url.searchParams.set(k, v);
  }
  return { clientId: registration.client_id, authorize: url.toString() };
}
const longName = "A".repeat(100);
const appCallback = `${appsBase}/callback`;
const app = await oauthClient("Browser Test App", appCallback);
const longCallback = `${appsBase}/callback-long`;
const longApp = await oauthClient(longName, longCallback);

// ── 1280 px ──────────────────────────────────────────────────────────────────────────────
const desk = await context(DESKTOP);
await desk.goto(`${base}/`);
await inspect(desk, "landing");
await desk.goto(`${base}/signup`);
await inspect(desk, "signup");
await desk.fill('input[name="email"]', "browser@example.com");
await desk.fill('input[name="password"]', "correct horse battery");
await desk.click('button[type="submit"]');
await desk.waitForURL(`${base}/settings/connected-apps`);
facts.welcome = await text(desk, ".flash");
await inspect(desk, "connected-apps-empty");

// A blank name: the error beside the field, the choices kept.
await desk.fill("#key-name", "   ");
await desk.check('input[name="scope"][value="write"]');
await desk.check('input[name="expiry"][value="30"]');
await desk.click("form.key-form button[type=submit]");
await desk.waitForSelector("#key-name-error");
facts.nameError = await desk.evaluate(() => {
  const input = document.getElementById("key-name");
  const error = document.getElementById(input.getAttribute("aria-describedby"));
  return {
    invalid: input.getAttribute("aria-invalid"),
    message: error?.textContent,
    gap: error ? error.getBoundingClientRect().top - input.getBoundingClientRect().bottom : null,
    write: document.querySelector('input[name="scope"][value="write"]').checked,
    days30: document.querySelector('input[name="expiry"][value="30"]').checked,
  };
});
await inspect(desk, "create-key-errors");

// Keyboard only: name, Read + Write, 30 days, submit.
await desk.goto(`${base}/settings/connected-apps`);
await tabTo(desk, "#key-name");
await desk.keyboard.type("Claude Desktop");
await tabTo(desk, 'input[name="scope"]');
await desk.keyboard.press("ArrowDown");
await tabTo(desk, 'input[name="expiry"]');
await desk.keyboard.press("ArrowDown");
await desk.keyboard.press("ArrowDown");
await tabTo(desk, "form.key-form button[type=submit]");
await desk.keyboard.press("Enter");
await desk.waitForURL(/\/keys\/[A-Za-z0-9]+\/created$/);
const createdUrl = desk.url();
const token = (await desk.textContent("#new-token")).trim();
facts.createdHeading = await text(desk, "h1");
await desk.click('button[data-copy="new-token"]');
await desk.waitForFunction(() => document.querySelector('button[data-copy="new-token"] .label').textContent !== "Copy");
facts.copyLabel = await desk.textContent('button[data-copy="new-token"] .label');
facts.clipboard = await desk.evaluate(() => navigator.clipboard.readText()).catch(() => null);
await inspect(desk, "key-created");

// Reload, then Back: the token is gone and no second key was made.
const reloaded = await desk.reload();
facts.reloadStatus = reloaded.status();
facts.shownAfterReload = (await desk.content()).includes(token);
await inspect(desk, "key-already-shown");
await desk.goBack();
facts.backUrl = desk.url();
facts.shownAfterBack = (await desk.content()).includes(token);
await desk.goto(`${base}/settings/connected-apps`);
facts.keysAfterReloads = await count(desk, "table.keys tbody tr[data-key-id]");
facts.listed = await text(desk, "table.keys tbody");

// Keyboard only: Revoke (named for the key), the confirmation, then the message, once.
await tabTo(desk, 'a[aria-label="Revoke API key “Claude Desktop”"]');
await desk.keyboard.press("Enter");
await desk.waitForURL(/\/revoke$/);
facts.confirmRevoke = await text(desk, "h1");
await inspect(desk, "confirm-revoke");
await tabTo(desk, ".confirm button[type=submit]");
await desk.keyboard.press("Enter");
await desk.waitForURL(`${base}/settings/connected-apps`);
facts.revokedFlash = await text(desk, ".flash");
facts.status = await text(desk, "table.keys tbody td.status-revoked");
await inspect(desk, "connected-apps-after-revoke");
await desk.reload();
facts.flashAfterReload = await count(desk, ".flash");
facts.latestEvent = await text(desk, ".audit li");
facts.keysAfterRevoke = await count(desk, "table.keys tbody tr[data-key-id]");
await desk.goto(`${base}/settings/account`);
await inspect(desk, "account");
await desk.goto(`${base}/workspace`);
await inspect(desk, "workspace");

// Signed out, an app waits: the sign-in page names it and marks the name as self-reported.
const anon = await context(DESKTOP);
await anon.goto(longApp.authorize);
await anon.waitForURL(/\/signin\?next=/);
facts.signinForApp = await text(anon, "main");
await inspect(anon, "signin-for-app");

// Consent: names the app, where the browser goes; Read only is chosen; Approve redirects with a code.
await desk.goto(app.authorize);
facts.consentText = await text(desk, "main");
await inspect(desk, "consent");
await desk.check('input[name="access"][value="read"]');
const redirect = await approve(desk, appCallback);
facts.code = redirect.searchParams.get("code");
facts.state = redirect.searchParams.get("state");

// A 100-character name wraps on the consent card; approve it, then disconnect it (Cancel first).
await desk.goto(longApp.authorize);
await inspect(desk, "consent-long-name");
await approve(desk, longCallback);
await desk.goto(`${base}/settings/connected-apps`);
await desk.click(`a[aria-label="Disconnect ${longName}"]`);
await desk.waitForURL(/\/disconnect$/);
await inspect(desk, "confirm-disconnect");
await desk.click("text=Cancel");
await desk.waitForURL(`${base}/settings/connected-apps`);
facts.appsAfterCancel = await count(desk, "table.apps tbody tr[data-grant-id]");
await desk.click(`a[aria-label="Disconnect ${longName}"]`);
await desk.click(".confirm button[type=submit]");
await desk.waitForURL(`${base}/settings/connected-apps`);
facts.disconnectedFlash = await text(desk, ".flash");
facts.appsAfterDisconnect = await text(desk, "table.apps tbody");

const missing = await desk.goto(`${base}/no/such/page`);
facts.notFoundStatus = missing.status();
await inspect(desk, "not-found");

// Navis opened at localhost while its public URL is 127.0.0.1: the refusal says where to go.
const elsewhere = await context(DESKTOP);
await elsewhere.goto(base.replace("127.0.0.1", "localhost") + "/signin");
await elsewhere.fill('input[name="email"]', "browser@example.com");
await elsewhere.fill('input[name="password"]', "correct horse battery");
const [refused] = await Promise.all([elsewhere.waitForNavigation(), elsewhere.click('button[type="submit"]')]);
facts.wrongOriginStatus = refused.status();
facts.wrongOriginText = await text(elsewhere, "main");
await inspect(elsewhere, "wrong-origin");

// ── 390 px (and 360 px) ──────────────────────────────────────────────────────────────────
const phone = await context(PHONE);
await phone.goto(`${base}/`);
await inspect(phone, "landing");
await phone.goto(`${base}/signup`);
await inspect(phone, "signup");
await phone.goto(`${base}/signin`);
await phone.fill('input[name="email"]', "browser@example.com");
await phone.fill('input[name="password"]', "correct horse battery");
await phone.click('button[type="submit"]');
await phone.waitForURL(`${base}/settings/connected-apps`);
await phone.fill("#key-name", "Phone key with a name long enough to wrap on a small screen");
await phone.click("form.key-form button[type=submit]");
await phone.waitForURL(/\/created$/);
await inspect(phone, "key-created");
await phone.click("text=Done");
await phone.waitForURL(`${base}/settings/connected-apps`);
await inspect(phone, "connected-apps");
// Every Revoke and Disconnect is on screen, not beyond its right edge.
facts.phoneActionsOnScreen = await phone.evaluate(() =>
  [...document.querySelectorAll("td.row-action a")].every((a) => a.getBoundingClientRect().right <= window.innerWidth));
await phone.click('a[aria-label^="Revoke API key “Phone key"]');
await inspect(phone, "confirm-revoke");
await phone.click(".confirm button[type=submit]");
await phone.waitForURL(`${base}/settings/connected-apps`);
await inspect(phone, "connected-apps-after-revoke");
await phone.fill("#key-name", "  ");
await phone.click("form.key-form button[type=submit]");
await phone.waitForSelector("#key-name-error");
await inspect(phone, "create-key-errors");
await phone.goto(`${base}/settings/account`);
await inspect(phone, "account");
await phone.goto(`${base}/workspace`);
await inspect(phone, "workspace");
await phone.goto(longApp.authorize);
await inspect(phone, "consent-long-name");
await phone.goto(app.authorize);
await inspect(phone, "consent");
await phone.goto(`${base}/no/such/page`);
await inspect(phone, "not-found");
const phoneAnon = await context(PHONE);
await phoneAnon.goto(longApp.authorize);
await phoneAnon.waitForURL(/\/signin\?next=/);
await inspect(phoneAnon, "signin-for-app");

console.log(JSON.stringify({ token, createdUrl, clientId: app.clientId, callback: appCallback, verifier, problems, checks, ...facts }));
await browser.close();
apps.close();
