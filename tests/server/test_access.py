"""Namespace isolation on every route of a real `tuner server` subprocess with an auth file.

`test_every_route_is_declared_and_isolated` enumerates the app's routes (`app.routes`), so a route added
later is checked without touching this file, and a route that `tuner.server.access` does not cover fails it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.routing import APIRoute

from tests.server.conftest import ServerProcess, trial_experiment, wait_for_state
from tuner.config import Settings
from tuner.server.access import Access, Scope, iter_routes, route_has_namespace, route_methods, rule_for
from tuner.server.app import create_app
from tuner.server.tokens import parse_tokens
from tuner.store import open_store

PROBLEM = "application/problem+json"
ALPHA, BETA = "alpha-team", "beta-team"  # distinctive: a response that leaks ALPHA to BETA shows it
SEEDED = "seeded-alpha-experiment"
SEEDED_RUN = "seeded-alpha-run"
SECRETS = (ALPHA, SEEDED, SEEDED_RUN)  # what another namespace's token must never see
DENIED = (401, 403)


SEEDED_IDS: dict[str, str] = {}  # path parameters naming seeded records of ALPHA (run_id, task_id)


def _token() -> str:
    return "tuner_" + secrets.token_urlsafe(24)


TOKENS = {
    "alpha-viewer": (_token(), [ALPHA], "viewer"),
    "alpha-editor": (_token(), [ALPHA], "editor"),
    "beta-editor": (_token(), [BETA], "editor"),
    "admin": (_token(), ["*"], "admin"),
}


def auth_document() -> str:
    entries = [
        {"name": name, "sha256": hashlib.sha256(token.encode()).hexdigest(), "namespaces": ns, "role": role}
        for name, (token, ns, role) in TOKENS.items()
    ]
    return yaml.safe_dump({"tokens": entries})


def bearer(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[who][0]}"}


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module, with the tokens above and an experiment in ALPHA that ran to its end."""
    root = tmp_path_factory.mktemp("secured")
    auth_file = root / "tokens.yaml"
    auth_file.write_text(auth_document())
    home = root / "home"
    home.mkdir()
    server = ServerProcess(
        home, f"sqlite:///{root / 'tuner.db'}", args=["--auth-file", str(auth_file), "--log-level", "debug"]
    )
    server.start()
    try:
        document = trial_experiment(
            SEEDED, "print('loss=' + str(float(args['x']) ** 2))", max_trials=1, parallel=1
        )
        document["metadata"]["namespace"] = ALPHA
        reply = httpx.post(f"{server.url}/api/v1/experiments", json=document, headers=bearer("alpha-editor"))
        assert reply.status_code == 201, reply.text
        wait_for_state(server.url, ALPHA, SEEDED, {"Succeeded", "Failed"}, headers=bearer("admin"))
        store = open_store(server.store_url)
        try:
            run = store.create_run(SEEDED_RUN, namespace=ALPHA)
            SEEDED_IDS.update(run_id=str(run.id), task_id=str(store.create_task(run.id, "step").id))
        finally:
            store.close()
        yield server
    finally:
        server.stop()


def _fill(route: Any, path: str, namespace: str) -> str:
    """`path` with every parameter filled: `namespace` with `namespace`, numbers with 1, the rest with names
    that do not exist (so that a passed check never changes anything)."""
    numbers = set()
    if isinstance(route, APIRoute):
        numbers = {p.name for p in route.dependant.path_params if p.field_info.annotation in (int, float)}

    def value(match: re.Match[str]) -> str:
        name, convertor = match.group(1), match.group(2) or ""
        if name == "namespace":
            return namespace
        if name in SEEDED_IDS:
            return SEEDED_IDS[name]
        if name in numbers or convertor in (":int", ":float"):
            return "1"
        return "no/such/path" if convertor == ":path" else "no-such-name"

    return re.sub(r"\{(\w+)(:\w+)?\}", value, path)


def _call(server: ServerProcess, method: str, path: str, who: str | None, **kwargs: Any) -> httpx.Response:
    headers = {**(bearer(who) if who else {}), **kwargs.pop("headers", {})}
    return httpx.request(method, f"{server.url}{path}", headers=headers, timeout=60, **kwargs)


def _is_problem(reply: httpx.Response, status: int) -> bool:
    return (
        reply.status_code == status
        and reply.headers.get("content-type", "").startswith(PROBLEM)
        and reply.json().get("status") == status
    )


def _check_route(server: ServerProcess, route: Any, path: str, method: str) -> list[str]:
    """Every way `METHOD path` breaks its rule (empty when it keeps it)."""
    where = f"{method} {path}"
    rule = rule_for(method, path, route_has_namespace(path))
    if not isinstance(route, APIRoute):
        if rule is None or rule.scope is not Scope.OPEN:
            return [f"{where}: not an APIRoute, so the access dependency never runs; declare it OPEN"]
        return []
    if rule is None:
        return [f"{where}: undeclared (no {{namespace}} parameter): add it to tuner.server.access.RULES"]
    if rule.scope is Scope.OPEN:
        reply = _call(server, method, _fill(route, path, ALPHA), None)
        return (
            [f"{where}: OPEN but answered {reply.status_code} without a token"]
            if reply.status_code in DENIED
            else []
        )
    errors: list[str] = []
    alpha_path = _fill(route, path, ALPHA)
    reader = rule.reader()
    sample = reader.sample(ALPHA) if reader is not None else {}
    body = sample if rule.scope is Scope.BODY else {}
    anonymous = _call(server, method, alpha_path, None, **body)
    if not _is_problem(anonymous, 401) or not anonymous.headers.get("www-authenticate", "").startswith(
        "Bearer"
    ):
        errors.append(f"{where}: without a token answered {anonymous.status_code} {anonymous.text[:120]}")
    reads = method in ("GET", "HEAD", "OPTIONS")
    editor = "alpha-viewer" if reads and rule.role is None else "alpha-editor"
    if rule.scope in (Scope.NAMESPACED, Scope.BODY, Scope.LOOKUP):
        other = _call(server, method, alpha_path, "beta-editor", **body)
        if not _is_problem(other, 403):
            errors.append(
                f"{where}: another namespace's token answered {other.status_code} {other.text[:120]}"
            )
        own = _call(server, method, alpha_path, editor, **body)
        if own.status_code in DENIED:
            errors.append(f"{where}: the namespace's own {editor} was refused: {own.text[:120]}")
        if not reads and rule.role is None:
            viewer = _call(server, method, alpha_path, "alpha-viewer", **body)
            if not _is_problem(viewer, 403):
                errors.append(f"{where}: a viewer was allowed to write ({viewer.status_code})")
    elif rule.scope is Scope.FILTERED:
        everything = _call(server, method, alpha_path, "admin")
        other = _call(server, method, alpha_path, "beta-editor")
        own = _call(server, method, alpha_path, "alpha-viewer")
        leaked = [s for s in SECRETS if s in other.text]
        if other.status_code in DENIED or leaked:
            errors.append(
                f"{where}: FILTERED but another namespace's token got {other.status_code}, saw {leaked}"
            )
        hidden = [s for s in SECRETS if s in everything.text and s not in own.text]
        if hidden:
            errors.append(f"{where}: FILTERED hides {hidden} from their own namespace's token")
        asked = _call(server, method, alpha_path, "beta-editor", **sample)
        if not _is_problem(asked, 403):
            errors.append(
                f"{where}: asked explicitly for {ALPHA} ({sample}) by another namespace: {asked.status_code}"
            )
    elif rule.scope is Scope.ADMIN:
        editor_reply = _call(server, method, alpha_path, "alpha-editor", **body)
        if not _is_problem(editor_reply, 403):
            errors.append(f"{where}: ADMIN but a namespace editor got {editor_reply.status_code}")
        admin_reply = _call(server, method, alpha_path, "admin", **body)
        if admin_reply.status_code in DENIED:
            errors.append(f"{where}: ADMIN refused the admin: {admin_reply.text[:120]}")
    return errors


def test_every_route_is_declared_and_isolated(secured: ServerProcess, tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path), auth=Access(parse_tokens(auth_document(), "test")))
    routes = list(iter_routes(app))
    errors: list[str] = []
    for route, path in routes:
        for method in route_methods(route):
            errors += _check_route(secured, route, path, "GET" if method == "*" else method)
    assert not errors, "\n".join(errors)
    namespaced = [path for _, path in routes if route_has_namespace(path)]
    assert len(namespaced) >= 15  # the experiments, trials and models routes at least


def test_seeded_experiment_is_readable_by_its_namespace_only(secured: ServerProcess) -> None:
    path = f"/api/v1/experiments/{ALPHA}/{SEEDED}"
    assert _call(secured, "GET", path, "alpha-viewer").json()["metadata"]["name"] == SEEDED
    assert _is_problem(_call(secured, "GET", path, "beta-editor"), 403)
    assert _is_problem(_call(secured, "DELETE", path, "alpha-viewer"), 403)
    listed = _call(secured, "GET", "/api/v1/experiments", "alpha-viewer").json()
    assert [e["metadata"]["namespace"] for e in listed["items"]] == [ALPHA]
    assert _call(secured, "GET", "/api/v1/experiments", "beta-editor").json()["items"] == []
    trials = _call(secured, "GET", f"{path}/trials", "alpha-viewer").json()["items"]
    assert len(trials) == 1
    assert _is_problem(
        _call(secured, "GET", f"{path}/trials/{trials[0]['metadata']['name']}", "beta-editor"), 403
    )


def test_bad_tokens_are_refused_with_a_bearer_challenge(secured: ServerProcess) -> None:
    path = f"/api/v1/experiments/{ALPHA}/{SEEDED}"
    for headers in ({"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic dXNlcjpwYXNz"}, {}):
        reply = httpx.get(f"{secured.url}{path}", headers=headers)
        assert _is_problem(reply, 401), reply.text
        assert reply.headers["www-authenticate"].startswith('Bearer realm="tuner"')
    assert httpx.get(f"{secured.url}/healthz").status_code == 200
    assert httpx.get(f"{secured.url}/readyz").status_code == 200
    assert "tuner_server_requests_total" in httpx.get(f"{secured.url}/metrics").text
    schema = httpx.get(f"{secured.url}/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/experiments/{namespace}/{name}"]["get"]
    assert {"401", "403"} <= set(operation["responses"]) and operation["security"]
    assert schema["paths"]["/healthz"]["get"]["security"] == []


def test_browser_session_cookie(secured: ServerProcess) -> None:
    with httpx.Client(base_url=secured.url) as browser:
        refused = browser.post("/api/v1/login", json={"token": "tuner_wrong"})
        assert _is_problem(refused, 401) and "tuner_session" not in browser.cookies
        reply = browser.post(
            "/api/v1/login",
            content=f"token={TOKENS['alpha-viewer'][0]}",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert reply.status_code == 200, reply.text
        assert reply.json() == {"name": "alpha-viewer", "namespaces": {ALPHA: "viewer"}}
        cookie = reply.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert TOKENS["alpha-viewer"][0] not in cookie
        assert browser.get(f"/api/v1/experiments/{ALPHA}/{SEEDED}").status_code == 200
        assert browser.get("/api/v1/whoami").json()["name"] == "alpha-viewer"
        assert _is_problem(browser.get(f"/api/v1/experiments/{BETA}/x"), 403)
        assert _is_problem(browser.delete(f"/api/v1/experiments/{ALPHA}/{SEEDED}"), 403)
        value = browser.cookies["tuner_session"]
        forged = value[:-1] + ("0" if value[-1] != "0" else "1")
        assert _is_problem(httpx.get(f"{secured.url}/api/v1/whoami", cookies={"tuner_session": forged}), 401)
        assert browser.post("/api/v1/logout").status_code == 204
        assert _is_problem(browser.get("/api/v1/whoami"), 401)


def test_no_token_reaches_the_log(secured: ServerProcess) -> None:
    """Every token, valid or not, sent as a header, to login and on a denied request: none may be in the
    server's output (uvicorn's access log at debug level and ours)."""
    stray = _token()
    for token in [stray, *(t for t, _, _ in TOKENS.values())]:
        headers = {"Authorization": f"Bearer {token}"}
        httpx.get(f"{secured.url}/api/v1/whoami", headers=headers)
        httpx.delete(f"{secured.url}/api/v1/experiments/{BETA}/x", headers=headers)
        httpx.post(f"{secured.url}/api/v1/login", json={"token": token})
    log = secured.log.read_text()
    assert "GET /api/v1/whoami" in log  # the access log is on, so the check below means something
    for token in [stray, *(t for t, _, _ in TOKENS.values())]:
        assert token not in log
        assert token[len("tuner_") :] not in log
