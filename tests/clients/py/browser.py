"""The "browser" of a headless OAuth test, for clients that open one themselves.

A client that calls `webbrowser.open(authorization_url)` and then waits on its own loopback callback
server gets this instead of a real browser: it opens the consent page with the user's session cookie,
posts the form as a person clicking Approve would, and follows the redirect to the client's callback,
as a browser would - all on a thread, since the client starts its callback server only after opening
the browser. Standard library only, so that every venv can use it.
"""

import html
import http.client
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import webbrowser


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _send(request: urllib.request.Request) -> tuple[int, http.client.HTTPMessage, str]:
    try:
        with _opener.open(request, timeout=10) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def approve(authorization_url: str, session_cookie: str, access: str = "write") -> str:
    """Approves on the consent page; returns the redirect Location (the client's callback URL)."""
    status, headers, page = _send(urllib.request.Request(authorization_url, headers={"cookie": session_cookie}))
    if status != 200:
        raise RuntimeError(f"expected the consent page, got {status} {headers.get('location')}")
    cookies = [session_cookie] + [c.split(";")[0] for c in headers.get_all("set-cookie") or []]
    form = re.search(r'<form method="post" action="/oauth/authorize">(.*?)</form>', page, re.S)
    if not form:
        raise RuntimeError("no consent form on the page")
    fields = {k: html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1))}
    fields.update(access=access, decision="approve")
    status, headers, _ = _send(urllib.request.Request(
        urllib.parse.urljoin(authorization_url, "/oauth/authorize"),
        data=urllib.parse.urlencode(fields).encode(),
        headers={"content-type": "application/x-www-form-urlencoded", "cookie": "; ".join(cookies)},
    ))
    if status != 303:
        raise RuntimeError(f"consent did not redirect: {status}")
    return headers["location"]


def deliver(callback_url: str, within: float = 20.0) -> None:
    """Follows the redirect to the client's loopback callback, waiting for its server to listen."""
    deadline = time.monotonic() + within
    while True:
        try:
            status, _, body = _send(urllib.request.Request(callback_url))
            if status >= 400:
                raise RuntimeError(f"the client's callback answered {status}: {body[:200]}")
            return
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class HeadlessBrowser:
    """Stands in for `webbrowser.open`; records each URL it was asked to open."""

    def __init__(self, session_cookie: str):
        self.session_cookie = session_cookie
        self.opened: list[str] = []
        self.errors: list[str] = []
        self.approve = True

    def open(self, url: str, *args, **kwargs) -> bool:
        self.opened.append(url)
        if self.approve:
            threading.Thread(target=self._run, args=(url,), daemon=True).start()
        return True

    def _run(self, url: str) -> None:
        try:
            deliver(approve(url, self.session_cookie))
        except Exception as e:  # noqa: BLE001 - reported by the script
            self.errors.append(repr(e))

    def install(self) -> "HeadlessBrowser":
        webbrowser.open = self.open
        return self
