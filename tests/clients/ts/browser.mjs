// The "browser" of a headless OAuth test: opens the authorization URL with the user's session
// cookie, posts the consent form as a person clicking Approve would, and returns the redirect.
const named = { quot: '"', lt: "<", gt: ">", amp: "&" };
const unescape = (s) => s.replace(/&(#\d+|quot|lt|gt|amp);/g, (_, ref) => (ref[0] === "#" ? String.fromCharCode(Number(ref.slice(1))) : named[ref]));

export async function approve(authorizationUrl, sessionCookie, access = "write") {
  let cookies = [sessionCookie];
  const res = await fetch(authorizationUrl, { redirect: "manual", headers: { cookie: cookies.join("; ") } });
  if (res.status !== 200) throw new Error(`expected the consent page, got ${res.status} ${res.headers.get("location")}`);
  for (const c of res.headers.getSetCookie()) cookies.push(c.split(";")[0]);
  const html = await res.text();
  const form = html.match(/<form method="post" action="\/oauth\/authorize">([\s\S]*?)<\/form>/);
  if (!form) throw new Error("no consent form on the page");
  const fields = Object.fromEntries([...form[1].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], unescape(m[2])]));
  const post = await fetch(new URL("/oauth/authorize", authorizationUrl), {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookies.join("; ") },
    body: new URLSearchParams({ ...fields, access, decision: "approve" }),
  });
  const location = post.headers.get("location");
  if (!location) throw new Error(`consent did not redirect: ${post.status}`);
  return new URL(location);
}

// Waits for the test (on stdin) to say "continue".
export function waitForTest() {
  return new Promise((resolve) => {
    const onData = (d) => {
      if (String(d).includes("continue")) {
        process.stdin.off("data", onData);
        process.stdin.pause();
        resolve();
      }
    };
    process.stdin.resume();
    process.stdin.on("data", onData);
  });
}

// Records every HTTP exchange so the test can see 401s and refresh attempts.
export function recordingFetch(log) {
  return async (url, init) => {
    const res = await fetch(url, init);
    const body = typeof init?.body === "string" ? init.body : init?.body instanceof URLSearchParams ? init.body.toString() : "";
    log.push({ url: String(url), method: init?.method ?? "GET", status: res.status, grantType: new URLSearchParams(body).get("grant_type") });
    return res;
  };
}
