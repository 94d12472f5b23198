"""Who may call which route: one app-wide FastAPI dependency (`authorize`) and the declarations it reads.

Every route is checked here, none by hand. The role a request needs follows its HTTP method (GET, HEAD and
OPTIONS need viewer; every other method editor) unless `RULES` says otherwise, and the namespace comes from
the route's `{namespace}` path parameter. A route without one must be declared in `RULES`, the one place
that lists them, as:

- OPEN: anyone (health probes, metrics, the OpenAPI, login);
- FILTERED: any valid token; the route answers only what the caller's namespaces hold (it calls
  `readable_namespaces`); the namespaces it is asked for explicitly (`?namespace=`, or what its reader
  reads, e.g. `?e=ns/name`) are checked like a path parameter;
- BODY: the namespace is read from the request (`metadata.namespace` or `namespace` of a JSON/YAML body, a
  `namespace` form field or query parameter; "default" when none is given, as kubectl does; or a reader);
- LOOKUP: the namespace is the one of the record the path names (a pipeline run by id), from the store;
- ADMIN: only a token with role admin on every namespace ("*").

Readers (`NamespaceReader`) also say how to build a request naming a namespace, so the isolation test
calls every declared route without knowing it.

An undeclared route without `{namespace}` is treated as ADMIN (closed, and logged at start-up), and
tests/server/test_access.py fails for it. Without configured tokens (`access` is None) everything is open,
as on a laptop. A browser presents the token once to `POST /api/v1/login` and gets a session cookie
(HttpOnly, SameSite=Strict) that `authorize` accepts like the bearer header.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs

import yaml
from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute

from tuner.errors import TunerError
from tuner.http_problems import PROBLEM_JSON, ApiProblem
from tuner.server.tokens import ALL_NAMESPACES, Principal, Role, TokenTable

logger = logging.getLogger(__name__)

DEFAULT_NAMESPACE = "default"
SESSION_COOKIE = "tuner_session"
SESSION_SECRET_ENV = "TUNER_SERVER_SESSION_SECRET"
SESSION_SECONDS = 12 * 3600
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Scope(enum.Enum):
    """Where the namespaces of a request come from (see the module docstring)."""

    NAMESPACED = "namespaced"
    OPEN = "open"
    FILTERED = "filtered"
    BODY = "body"
    LOOKUP = "lookup"
    ADMIN = "admin"


class NamespaceReader:
    """Reads the namespaces a request touches; `sample` builds request arguments (httpx keywords) that name
    `namespace` the way this reader reads it, so the isolation test can call any declared route."""

    async def __call__(self, request: Request) -> list[str]:
        raise NotImplementedError

    def sample(self, namespace: str) -> dict[str, Any]:
        return {}


class QueryNamespaces(NamespaceReader):
    """Every `?namespace=` value (FILTERED routes: an explicit namespace is checked, not filtered)."""

    async def __call__(self, request: Request) -> list[str]:
        return request.query_params.getlist("namespace")

    def sample(self, namespace: str) -> dict[str, Any]:
        return {"params": {"namespace": namespace}}


class QueryRefs(NamespaceReader):
    """The namespaces of `NAMESPACE/NAME` references in a repeated query parameter (`?e=ns/a&e=ns/b`)."""

    def __init__(self, param: str) -> None:
        self.param = param

    async def __call__(self, request: Request) -> list[str]:
        return [ref.partition("/")[0] for ref in request.query_params.getlist(self.param)]

    def sample(self, namespace: str) -> dict[str, Any]:
        return {"params": {self.param: [f"{namespace}/no-such-name", f"{namespace}/other"]}}


class BodyNamespace(NamespaceReader):
    """BODY routes' default: `?namespace=`, a `namespace` form field, or the JSON/YAML body's namespace
    (`metadata.namespace`, else `namespace`); "default" when none is given or the body cannot be read
    (the route refuses such a body anyway), never "any"."""

    async def __call__(self, request: Request) -> list[str]:
        return [await request_namespace(request)]

    def sample(self, namespace: str) -> dict[str, Any]:
        return {"json": {"metadata": {"namespace": namespace, "name": "x"}, "namespace": namespace}}


class FormDocument(NamespaceReader):
    """The namespace of a YAML/JSON document posted in a form field (an HTML form's textarea)."""

    def __init__(self, field: str) -> None:
        self.field = field

    async def __call__(self, request: Request) -> list[str]:
        values = parse_qs((await request.body()).decode("utf-8", "replace")).get(self.field) or [""]
        try:
            document = yaml.safe_load(values[0])
        except yaml.YAMLError:
            document = None
        return [document_namespace(document)]

    def sample(self, namespace: str) -> dict[str, Any]:
        text = yaml.safe_dump({"metadata": {"name": "x", "namespace": namespace}})
        return {"data": {self.field: text}}


class PipelineRecords(NamespaceReader):
    """The namespaces of the pipeline run (`{run_id}`) and task (`{task_id}`) a path names, from the store;
    none for a record that does not exist (the route answers 404)."""

    async def __call__(self, request: Request) -> list[str]:
        store = request.app.state.store
        params = request.path_params

        def lookup() -> list[str]:
            found = []
            for param, read in (
                ("run_id", lambda i: store.get_run(i).namespace),
                ("task_id", lambda i: store.get_run(store.get_task(i).run_id).namespace),
            ):
                if param in params:
                    try:
                        found.append(str(read(int(params[param]))))
                    except (TunerError, ValueError):
                        pass
            return found

        return await run_in_threadpool(lookup)


@dataclass(frozen=True)
class Rule:
    """How one route is checked: its scope, the role when not the method's, the reader of its namespaces."""

    scope: Scope
    role: Role | None = None
    namespaces_of: NamespaceReader | None = None

    def reader(self) -> NamespaceReader | None:
        if self.namespaces_of is not None:
            return self.namespaces_of
        return {Scope.BODY: BodyNamespace(), Scope.FILTERED: QueryNamespaces()}.get(self.scope)


OPEN = Rule(Scope.OPEN)
FILTERED = Rule(Scope.FILTERED)
BODY = Rule(Scope.BODY)
ADMIN = Rule(Scope.ADMIN)
PIPELINE_RECORDS = Rule(Scope.LOOKUP, namespaces_of=PipelineRecords())


# Every route without a {namespace} path parameter, by (METHOD, path template); "*" stands for every method.
# A namespaced route needs an entry only to change the role its method implies, e.g.
# `("POST", "/api/v1/experiments/{namespace}/{name}/query"): Rule(Scope.NAMESPACED, role=Role.viewer)`.
RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): OPEN,
    ("GET", "/readyz"): OPEN,
    # Prometheus scrapes it without credentials; its series carry route templates and counts only, never a
    # namespace, a name or a token.
    ("GET", "/metrics"): OPEN,
    ("*", "/api/v1/openapi.json"): OPEN,
    ("*", "/api/v1/docs"): OPEN,
    ("*", "/docs/oauth2-redirect"): OPEN,  # FastAPI's pages for the OpenAPI (static HTML)
    ("*", "/redoc"): OPEN,
    ("POST", "/api/v1/login"): OPEN,
    ("POST", "/api/v1/logout"): OPEN,
    ("GET", "/api/v1/whoami"): FILTERED,
    ("GET", "/api/v1/experiments"): FILTERED,
    ("POST", "/api/v1/experiments"): BODY,
    # the dashboard (tuner.dashboard): its pages and their JSON, static assets
    ("GET", "/dashboard-static/plotly.min.js"): OPEN,
    ("GET", "/dashboard-static/{name}"): OPEN,
    ("GET", "/"): FILTERED,
    ("GET", "/dashboard-api/experiments"): FILTERED,
    ("GET", "/compare"): Rule(Scope.FILTERED, namespaces_of=QueryRefs("e")),
    ("GET", "/dashboard-api/compare"): Rule(Scope.FILTERED, namespaces_of=QueryRefs("e")),
    ("GET", "/submit"): FILTERED,
    ("POST", "/submit"): Rule(Scope.BODY, namespaces_of=FormDocument("experiment")),
    ("GET", "/pipelines"): FILTERED,
    ("GET", "/pipelines/runs/{run_id}"): PIPELINE_RECORDS,
    ("GET", "/pipelines/runs/{run_id}/tasks/{task_id}/log"): PIPELINE_RECORDS,
    ("GET", "/login"): OPEN,  # the dashboard's token form (it posts to /api/v1/login)
}


def rule_for(method: str, path: str, has_namespace: bool) -> Rule | None:
    """The declared rule of a route, the NAMESPACED default, or None when it is undeclared."""
    rule = RULES.get((method.upper(), path)) or RULES.get(("*", path))
    if rule is not None:
        return rule
    return Rule(Scope.NAMESPACED) if has_namespace else None


_NAMESPACE_PARAM = re.compile(r"\{namespace(:[^}]*)?\}")


def route_has_namespace(path: str) -> bool:
    """Whether a route's path template has the `{namespace}` parameter."""
    return _NAMESPACE_PARAM.search(path) is not None


def iter_routes(app: FastAPI) -> Iterator[tuple[BaseRoute, str]]:
    """Every route of the app with its full path template, those of included routers too (FastAPI may
    keep an included router as one entry of `app.routes`)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before included routers were kept whole: app.routes is flat
        for route in app.routes:
            yield route, str(getattr(route, "path", ""))
        return
    for context in iter_route_contexts(app.routes):
        yield context.original_route, str(context.path or "")


def route_methods(route: BaseRoute) -> list[str]:
    """The methods a route answers ("*" for a mount or any route that does not list them)."""
    return sorted(getattr(route, "methods", None) or {"*"})


def undeclared_routes(app: FastAPI) -> list[str]:
    """`METHOD path` of every route that `rule_for` does not cover (they are closed: admin only)."""
    return [
        f"{method} {path}"
        for route, path in iter_routes(app)
        for method in route_methods(route)
        if rule_for(method, path, route_has_namespace(path)) is None
    ]


class Access:
    """The configured tokens and the session cookies signed for them."""

    def __init__(self, tokens: TokenTable, session_secret: str | None = None) -> None:
        self.tokens = tokens
        secret = session_secret or os.environ.get(SESSION_SECRET_ENV) or secrets.token_hex(32)
        self._key = hashlib.sha256(secret.encode()).digest()

    def session_cookie(self, digest: str, now: float | None = None) -> str:
        """A cookie naming the token's entry until it expires, signed so that only this server makes one."""
        expires = int((now or time.time()) + SESSION_SECONDS)
        payload = f"v1.{expires}.{digest}"
        return f"{payload}.{self._mac(payload)}"

    def session_principal(self, cookie: str) -> Principal | None:
        parts = cookie.split(".")
        if len(parts) != 4 or parts[0] != "v1" or not parts[1].isdecimal():
            return None
        payload = ".".join(parts[:3])
        if not hmac.compare_digest(self._mac(payload).encode(), parts[3].encode()):
            return None
        if int(parts[1]) < time.time():
            return None
        entry = self.tokens.by_digest(parts[2])  # gone when the token was removed from the file
        return entry.principal if entry else None

    def _mac(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()

    def authenticate(self, request: Request) -> Principal:
        """The principal of the bearer token, else of the session cookie.

        Raises:
            ApiProblem: 401 with `WWW-Authenticate: Bearer` when neither is valid (the token is never echoed).
        """
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise _unauthorized("the Authorization header must be `Bearer TOKEN`", "invalid_request")
            entry = self.tokens.lookup(token.strip())
            if entry is None:
                raise _unauthorized("the bearer token is not valid for this server", "invalid_token")
            return entry.principal
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            principal = self.session_principal(cookie)
            if principal is None:
                raise _unauthorized("the session has expired or was revoked; log in again", "invalid_token")
            return principal
        raise _unauthorized(
            "this server needs a token: send `Authorization: Bearer TOKEN` (tuner: --token or TUNER_TOKEN)"
        )


def _unauthorized(detail: str, error: str | None = None) -> ApiProblem:
    challenge = 'Bearer realm="tuner"' + (f', error="{error}"' if error else "")
    return ApiProblem(401, "Unauthorized", detail, headers={"WWW-Authenticate": challenge})


def _forbidden(principal: Principal, detail: str) -> ApiProblem:
    return ApiProblem(403, "Forbidden", f"token {principal.name!r} {detail}")


def access_of(request: Request) -> Access | None:
    access: Access | None = getattr(request.app.state, "access", None)
    return access


async def authorize(request: Request) -> None:
    """The app-wide dependency: authenticate the caller and check the route's rule (see the module doc)."""
    access = access_of(request)
    if access is None:
        return
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    rule = rule_for(request.method, path, route is not None and route_has_namespace(path))
    if rule is not None and rule.scope is Scope.OPEN:
        return
    principal = access.authenticate(request)
    request.state.principal = principal
    needed = rule.role if rule and rule.role else _method_role(request.method)
    if rule is None or rule.scope is Scope.ADMIN:
        if not principal.cluster_admin:
            _deny(request, principal, "admin")
            raise _forbidden(
                principal,
                f'may not call {request.method} {path}: it needs role admin on every namespace ("*")',
            )
        return
    if rule.scope is Scope.NAMESPACED:
        namespaces = [str(request.path_params.get("namespace", ""))]
    else:  # BODY, LOOKUP, and the namespaces a FILTERED route was asked for explicitly
        reader = rule.reader()
        namespaces = await reader(request) if reader is not None else []
    for namespace in namespaces:
        _check(request, principal, needed, namespace)


def _method_role(method: str) -> Role:
    return Role.viewer if method.upper() in READ_METHODS else Role.editor


def _check(request: Request, principal: Principal, needed: Role, namespace: str) -> None:
    if principal.may(needed, namespace):
        return
    _deny(request, principal, f"{needed.name} in {namespace!r}")
    held = principal.role_in(namespace)
    why = (
        f"is only {held.name} in namespace {namespace!r}"
        if held
        else f"has no access to namespace {namespace!r}"
    )
    raise _forbidden(principal, f"{why}; {request.method} needs role {needed.name} there")


def _deny(request: Request, principal: Principal, needed: str) -> None:
    logger.info(
        "denied %s %s to token %r (needs %s)", request.method, request.url.path, principal.name, needed
    )


class _HasNamespace(Protocol):
    @property
    def namespace(self) -> str: ...


_Namespaced = TypeVar("_Namespaced", bound=_HasNamespace)


def readable_namespaces(request: Request) -> frozenset[str] | None:
    """The namespaces whose items a FILTERED route may answer, or None for every namespace."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if access_of(request) is None or principal is None:
        return None
    return principal.readable()


def visible(request: Request, records: Iterable[_Namespaced]) -> list[_Namespaced]:
    """The records (anything with a `namespace`) the caller may read: what a FILTERED route answers."""
    readable = readable_namespaces(request)
    return [r for r in records if readable is None or r.namespace in readable]


def require(request: Request, namespace: str, role: Role = Role.editor) -> None:
    """Check a namespace a route learned itself (after parsing a body), as `authorize` does."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if access_of(request) is None or principal is None:
        return
    _check(request, principal, role, namespace)


def document_namespace(document: Any) -> str:
    """The namespace a body names, read as the spec reads it: `metadata.namespace` of a Kubernetes-style
    document (a document with `metadata` is never read elsewhere), else a top-level `namespace`; "default"
    when unset or empty."""
    if not isinstance(document, Mapping):
        return DEFAULT_NAMESPACE
    if "metadata" in document:
        metadata = document["metadata"]
        value = metadata.get("namespace") if isinstance(metadata, Mapping) else None
    else:
        value = document.get("namespace")
    return value if isinstance(value, str) and value else DEFAULT_NAMESPACE


async def request_namespace(request: Request) -> str:
    """The namespace `BodyNamespace` reads (see there)."""
    query = request.query_params.get("namespace")
    if query:
        return query
    content_type = request.headers.get("content-type", "")
    body = await request.body()
    if "application/x-www-form-urlencoded" in content_type:
        values = parse_qs(body.decode("utf-8", "replace")).get("namespace")
        return values[0] if values and values[0] else DEFAULT_NAMESPACE
    if "multipart/form-data" in content_type:
        form = await request.form()
        value = form.get("namespace")
        return value if isinstance(value, str) and value else DEFAULT_NAMESPACE
    try:
        text = body.decode("utf-8")
        document = json.loads(text) if "json" in content_type else yaml.safe_load(text)
    except (UnicodeDecodeError, ValueError, yaml.YAMLError):
        return DEFAULT_NAMESPACE
    return document_namespace(document)


PROBLEM_CONTENT = {
    PROBLEM_JSON: {
        "schema": {
            "type": "object",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
            },
        }
    }
}


def document_security(app: FastAPI) -> None:
    """Publish the rules in the OpenAPI: bearer and cookie schemes, `security` per operation (none on OPEN
    routes), and the 401/403 problem responses of the checked ones."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {}).update(
            {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
            }
        )
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                rule = rule_for(method, path, route_has_namespace(path))
                if rule is not None and rule.scope is Scope.OPEN:
                    operation["security"] = []
                    continue
                operation["security"] = [{"bearer": []}, {"session": []}]
                responses = operation.setdefault("responses", {})
                responses.setdefault(
                    "401",
                    {
                        "description": "No token, or not a valid one",
                        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
                        "content": PROBLEM_CONTENT,
                    },
                )
                responses.setdefault(
                    "403", {"description": "The token may not do this here", "content": PROBLEM_CONTENT}
                )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI, access: Access | None) -> None:
    """Enable `access` on `app` (None: open), document it, and name the routes nobody declared."""
    app.state.access = access
    if access is None:
        return
    document_security(app)
    for route in undeclared_routes(app):
        logger.error("route %s is not declared in tuner.server.access.RULES: only admins may call it", route)


def grants_document(principal: Principal) -> dict[str, Any]:
    return {"name": principal.name, "namespaces": {ns: r.name for ns, r in sorted(principal.grants.items())}}


ANONYMOUS = Principal("anonymous", {ALL_NAMESPACES: Role.admin})
