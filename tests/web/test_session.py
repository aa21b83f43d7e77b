"""The browser's session: cookie login, CSRF, logout, the feed, languages (HTTP level)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from switchboard.commands.admin import create_user
from tests.server.conftest import PASSWORD, Server, login, new_user
from tests.web.conftest import cookie_session


def _ws(server: Server, client: httpx.Client, origin: str | None = None) -> object:
    cookie = f"sb_session={client.cookies['sb_session']}"
    headers = {"Cookie": cookie}
    return connect(f"ws://127.0.0.1:{server.port}/api/v1/events/ws", open_timeout=5,
                   additional_headers=headers,
                   origin=origin or f"http://127.0.0.1:{server.port}")  # type: ignore[arg-type]


def test_login_sets_an_httponly_strict_cookie_that_authenticates(server: Server) -> None:
    name, tenant = new_user(server, "supervisor")
    client = httpx.Client(base_url=server.url, timeout=10)
    r = client.post("/api/v1/auth/session", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["role"] == "supervisor" and len(body["csrf"]) == 64
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("sb_session=") and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http here; Secure over https
    me = client.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["tenant"] == tenant
    bad = httpx.post(f"{server.url}/api/v1/auth/session",
                     json={"username": name, "password": "wrong password"})
    assert bad.status_code == 401 and "set-cookie" not in bad.headers
    assert bad.json()["error"]["code"] == "unauthorized"
    client.close()


def test_unsafe_requests_by_cookie_need_the_csrf_token(server: Server) -> None:
    name, _ = new_user(server, "admin")
    client, csrf = cookie_session(server, name)
    before = client.get("/api/v1/queues").json()
    r = client.post("/api/v1/queues", json={"name": "Forged"})
    assert r.status_code == 403
    assert r.json() == {"error": {"code": "csrf", "field": "X-CSRF-Token", "message": (
        "send the page's X-CSRF-Token header with this request "
        "(reload the page if it is missing)")}}
    wrong = client.post("/api/v1/queues", json={"name": "Forged"},
                        headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "csrf"
    assert client.patch("/api/v1/me", json={"language": "it"}).status_code == 403
    assert client.get("/api/v1/queues").json() == before  # refused: nothing changed
    ok = client.post("/api/v1/queues", json={"name": "Real"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text
    # another session's token does not fit this session
    _, other_csrf = cookie_session(server, name)
    assert client.post("/api/v1/queues", json={"name": "X"},
                       headers={"X-CSRF-Token": other_csrf}).status_code == 403
    # bearer tokens work as before, without any CSRF header
    api = login(server, name)
    assert api.post("/queues", json={"name": "Bearer"}).status_code == 201
    client.close()


def test_logout_ends_the_session_and_closes_its_feed_within_a_second(server: Server) -> None:
    name, _ = new_user(server, "supervisor")
    client, csrf = cookie_session(server, name)
    other, _ = cookie_session(server, name)  # a second session of the same user stays
    with _ws(server, client) as ws:  # type: ignore[attr-defined]
        assert client.delete("/api/v1/auth/session").status_code == 403  # no CSRF token
        r = client.delete("/api/v1/auth/session", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 204
        assert 'sb_session=""' in r.headers["set-cookie"] or "Max-Age=0" in \
            r.headers["set-cookie"]
        t0 = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=3)
        assert time.monotonic() - t0 < 1.5  # re-checked twice a second
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    client.cookies.clear()
    assert other.get("/api/v1/me").status_code == 200
    assert httpx.get(f"{server.url}/api/v1/me",
                     cookies={"sb_session": "not-a-session"}).status_code == 401
    other.close()
    client.close()


def test_the_feed_takes_the_cookie_and_still_checks_the_origin(server: Server) -> None:
    admin = login(server, new_user(server)[0])
    tenant = admin.get("/me").json()["tenant"]
    name, _ = new_user(server, "supervisor", tenant=tenant)
    client, _ = cookie_session(server, name)
    with pytest.raises(InvalidStatus):
        _ws(server, client, origin="http://evil.example")
    with _ws(server, client) as ws:  # type: ignore[attr-defined]
        q = admin.post("/queues", json={"name": "Q"}).json()["id"]
        it = admin.post("/interactions", json={"queue": q}).json()["id"]
        seen = []
        while len(seen) < 2:
            seen.append(json.loads(ws.recv(timeout=5)))
        assert [e["kind"] for e in seen] == ["arrived", "enqueued"]
        assert {e["interaction_id"] for e in seen} == {it}
    client.close()


def test_language_is_per_user_and_defaults_from_accept_language(server: Server) -> None:
    name, _ = new_user(server, "analyst")
    anon = httpx.get(f"{server.url}/", headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.8"})
    assert anon.status_code == 200 and 'lang="fr"' in anon.text
    assert "Connexion à Switchboard" in anon.text
    assert "Content-Security-Policy" in anon.headers
    zh = httpx.get(f"{server.url}/", headers={"Accept-Language": "zh-TW"})
    assert "登录 Switchboard" in zh.text
    cookie = httpx.get(f"{server.url}/", cookies={"sb_lang": "it"},
                       headers={"Accept-Language": "fr"})
    assert "Accedi a Switchboard" in cookie.text
    client, csrf = cookie_session(server, name)
    h = {"X-CSRF-Token": csrf}
    bad = client.patch("/api/v1/me", json={"language": "de"}, headers=h)
    assert bad.status_code == 422
    assert bad.json()["error"] == {"code": "invalid", "field": "language",
                                   "message": "must be one of en, it, fr, zh"}
    r = client.patch("/api/v1/me", json={"language": "zh"}, headers=h)
    assert r.status_code == 200 and r.json()["language"] == "zh"
    # the user's choice wins over the browser's language, in every new session
    again, _ = cookie_session(server, name)
    page = again.get("/", headers={"Accept-Language": "en"}, follow_redirects=True)  # its home
    assert 'lang="zh-CN"' in page.text and "退出登录" in page.text, page.text
    session = again.post("/api/v1/auth/session", json={"username": name, "password": PASSWORD})
    assert session.json()["language"] == "zh"
    client.close()
    again.close()


def test_the_catalogue_endpoint(server: Server) -> None:
    r = httpx.get(f"{server.url}/api/v1/i18n/it", params={"areas": "common"})
    assert r.status_code == 200
    body = r.json()
    assert body["tag"] == "it" and body["messages"]["Log out"] == "Esci"
    assert body["metrics"]["service_level"]["name"] == "Livello di servizio"
    assert body["metrics"]["abandon_rate"]["name"] == "Tasso di abbandono"
    en = httpx.get(f"{server.url}/api/v1/i18n/en").json()
    assert en["messages"] == {} and en["metrics"]["asa_s"]["name"].startswith("ASA")
    assert httpx.get(f"{server.url}/api/v1/i18n/de").json()["error"]["field"] == "lang"
    bad = httpx.get(f"{server.url}/api/v1/i18n/fr", params={"areas": "common,nope"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "areas"


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Tiny login limits (3 failures per account) to show they are shared."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SWITCHBOARD_LOGIN_ACCOUNT_FAILURES", "3")
    tmp = tmp_path_factory.mktemp("strict-web")
    srv = Server(f"sqlite:///{tmp}/db.sqlite", tmp / "server.log")
    create_user(srv.db_url, username="boot", password=PASSWORD, role="admin", tenant="t")
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
        mp.undo()


def test_cookie_and_bearer_logins_share_the_rate_limits(strict_server: Server) -> None:
    name = f"u-{uuid.uuid4().hex[:8]}"
    create_user(strict_server.db_url, username=name, password=PASSWORD, role="analyst",
                tenant="t")
    url = strict_server.url
    for _ in range(2):
        r = httpx.post(f"{url}/api/v1/auth/session", json={"username": name, "password": "no"})
        assert r.status_code == 401
    assert httpx.post(f"{url}/api/v1/auth/token",
                      json={"username": name, "password": "no"}).status_code == 401
    r = httpx.post(f"{url}/api/v1/auth/session", json={"username": name, "password": PASSWORD})
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) > 3000
