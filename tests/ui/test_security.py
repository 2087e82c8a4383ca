"""Who the server answers: its own Host only, the access token on every address, no
cross-site writes, and headers that keep the page to its own assets."""

from __future__ import annotations

import pytest

from core_blocks.ui.security import COOKIE, Guard, TokenError, configured_token


def test_every_address_needs_a_random_token_unless_one_is_configured():
    tokens = [Guard.for_address(host, 8765).access_token
              for host in ("127.0.0.1", "::1", "0.0.0.0", "192.0.2.7")]
    assert all(len(t) >= 40 for t in tokens) and len(set(tokens)) == 4
    assert Guard.for_address("127.0.0.1", 8765, "my-own-token-0123").access_token == (
        "my-own-token-0123")
    assert "access_token" not in repr(Guard.for_address("127.0.0.1", 8765))


def test_a_configured_token_must_be_long_and_url_safe():
    assert configured_token({}) is None
    assert configured_token({"CORE_BLOCKS_UI_TOKEN": "a" * 16}) == "a" * 16
    for bad in ("", "short", "has spaces in it, sixteen+", "semi;colon-and-more-0123"):
        with pytest.raises(TokenError, match="CORE_BLOCKS_UI_TOKEN must be 16 or more") as err:
            configured_token({"CORE_BLOCKS_UI_TOKEN": bad})
        assert not bad or bad not in str(err.value)


def test_host_header_must_name_the_bound_address():
    guard = Guard.for_address("127.0.0.1", 8765)
    assert guard.host_refusal("127.0.0.1:8765") is None
    assert guard.host_refusal("localhost:8765") is None
    assert "Unexpected Host header" in guard.host_refusal("attacker.example:8765")
    assert guard.host_refusal("127.0.0.1:9999") is not None
    assert guard.host_refusal(None) is not None
    assert Guard.for_address("0.0.0.0", 8765).host_refusal("any.name:8765") is None


def test_token_is_accepted_from_query_header_or_cookie_only_when_right():
    guard = Guard("192.0.2.7", 8765, access_token="t0ken")
    assert not guard.token_ok(None, None, None)
    assert not guard.token_ok(f"{COOKIE}_8765=wrong", "Bearer wrong", "wrong")
    assert not guard.token_ok(f"{COOKIE}_9999=t0ken", None, None)  # another server's
    assert guard.token_ok(None, None, "t0ken")
    assert guard.token_ok(None, "Bearer t0ken", None)
    assert guard.token_ok(f"other=1; {COOKIE}_8765=t0ken", None, None)
    assert "HttpOnly" in guard.cookie_header() and "SameSite=Strict" in guard.cookie_header()


def test_rebound_host_is_refused(client):
    reply = client.get("/api/blocks", headers={"Host": "rebound.example"})
    assert reply.status == 400 and "Unexpected Host header" in reply.json["error"]


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/api/blocks", {"type": "string", "name": "x", "values": {"value": "v"}}),
    ("PUT", "/api/concurrency/x", {"slots": 1}),
    ("DELETE", "/api/concurrency/x", None),
])
def test_writes_need_the_csrf_header_and_a_matching_origin(client, method, path, body):
    assert client.request(method, path, body, csrf=False).status == 403
    wrong = client.request(method, path, body, csrf=False, headers={"X-CSRF-Token": "guess"})
    assert wrong.status == 403 and "X-CSRF-Token" in wrong.json["error"]
    cross = client.request(method, path, body, headers={"Origin": "http://attacker.example"})
    assert cross.status == 403 and "Origin" in cross.json["error"]


def test_page_carries_the_csrf_token_and_strict_headers(client, ui_server):
    page = client.get("/")
    assert page.status == 200
    assert f'content="{ui_server.guard.csrf_token}"' in page.text
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    script = client.get("/static/app.js")
    assert script.status == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert "X-CSRF-Token" in script.text
    assert client.get("/static/../api/types").status == 404
    assert client.get("/static/index.html").status == 404


def test_token_opens_the_page_once_then_a_cookie_carries_it(client, ui_server):
    token = ui_server.guard.access_token
    assert client.get("/", token=False).status == 403
    assert client.get("/api/types", token=False).status == 403
    assert client.get("/static/app.js", token=False).status == 403
    assert client.get("/api/types", token=False,
                      headers={"Authorization": "Bearer " + token[:-1]}).status == 403
    refused = client.get("/", token=False)
    assert "open the URL with ?token=" in refused.text and token not in refused.text

    assert ui_server.url == f"http://127.0.0.1:{ui_server.server_address[1]}/?token={token}"
    opened = client.get(f"/?token={token}", token=False)
    assert opened.status == 303 and opened.headers["Location"] == "/"
    cookie = opened.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    pair = cookie.split(";")[0]
    assert client.get("/", token=False, headers={"Cookie": pair}).status == 200
    assert client.get("/api/types", token=False, headers={"Cookie": pair}).status == 200
    assert client.get("/api/types", token=False,
                      headers={"Authorization": f"Bearer {token}"}).status == 200


def test_assets_load_nothing_from_another_site():
    import re
    from importlib import resources

    static = resources.files("core_blocks.ui").joinpath("static")
    for name in ("index.html", "app.js", "app.css"):
        text = static.joinpath(name).read_text()
        assert not re.search(r"(src|href)=[\"']?(https?:)?//|@import|url\(\s*[\"']?https?:", text)
