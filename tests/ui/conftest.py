"""Fixtures of the browser tests: Debian's Chromium driven by Playwright against a real `tuner server` app
(uvicorn in a thread on 127.0.0.1) over a small seeded SQLite store, as ../shared/docs/browser-testing.md
describes. One browser and one server per session; each test gets a fresh context (no cookies) whose page
records JS errors and console errors and refuses every request that is not to loopback.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.visualization.conftest import build_big
from tuner.config import Settings

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SEEDED = "seeded"  # 40 settled trials, two metrics, 4 points of accuracy each
OTHER = "other"  # 12 more, for the comparison
SEEDED_TRIALS, OTHER_TRIALS, STEPS = 40, 12, 4
TOKEN = "tuner_" + secrets.token_urlsafe(24)
ARTIFACTS = Path(os.environ.get("UI_ARTIFACTS_DIR", "ui-artifacts"))


def _unavailable(reason: str) -> None:
    """Locally: skip. Under REQUIRE_BROWSER=1 (.ci/run): fail, so a missing browser is never silent."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path or not os.access(path, os.X_OK):
        _unavailable("chromium not found: apt-get install -y chromium (or set CHROMIUM_PATH)")
    return str(path)


@dataclass
class LiveServer:
    url: str
    store_url: str
    data_dir: Path


def _serve(app: Any) -> Iterator[str]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:  # uvicorn sets it once the socket listens: an event, polled
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard's server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`tuner server`'s app (no auth) over a store seeded with two experiments and a pipeline run."""
    from tuner.server.app import create_app
    from tuner.store import open_store
    from tuner.store.records import RunState, TaskState

    root = tmp_path_factory.mktemp("ui")
    url = f"sqlite:///{root / 'tuner.db'}"
    build_big(url, trials=SEEDED_TRIALS, steps=STEPS, name=SEEDED)
    build_big(url, trials=OTHER_TRIALS, steps=STEPS, name=OTHER)
    store = open_store(url)
    try:
        run = store.create_run("seeded-run", namespace="default")
        for name in ("prepare", "train"):
            task = store.create_task(run.id, name)
            store.update_task(task.id, state=TaskState.RUNNING)
            store.update_task(task.id, state=TaskState.SUCCEEDED, outputs={"rows": 42})
        store.update_run(run.id, RunState.SUCCEEDED)
    finally:
        store.close()
    mp = pytest.MonkeyPatch()
    mp.setenv("TUNER_HOME", str(root / "home"))
    try:
        app = create_app(Settings(data_dir=root / "home", store_url=url), poll_interval=0.05)
        for base in _serve(app):
            yield LiveServer(base, url, root / "home")
    finally:
        mp.undo()


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same app with one admin token configured: pages need a session."""
    from tuner.server.access import Access
    from tuner.server.app import create_app
    from tuner.server.tokens import parse_tokens

    root = tmp_path_factory.mktemp("ui-auth")
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    document = yaml.safe_dump(
        {"tokens": [{"name": "ui-admin", "sha256": digest, "namespaces": ["*"], "role": "admin"}]}
    )
    app = create_app(
        Settings(data_dir=root, store_url=f"sqlite:///{root / 'tuner.db'}"),
        auth=Access(parse_tokens(document, "test"), session_secret="ui-tests"),
    )
    yield from _serve(app)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright not installed: pip install -e '.[test]' (never run 'playwright install')")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_page(browser: Any, **options: Any) -> tuple[Any, Any]:
    """A page in a fresh browser context (`options` for the context) that records JS and console errors
    and refuses every request that leaves loopback (recorded for `assert_clean`)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1400}, accept_downloads=True, **options)
    pg = context.new_page()
    pg.js_errors = []
    pg.external_requests = []
    pg.on("pageerror", lambda exc: pg.js_errors.append(str(exc)))
    pg.on("console", lambda msg: pg.js_errors.append(msg.text) if msg.type == "error" else None)

    def only_loopback(route: Any) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:")):
            route.continue_()
        else:
            pg.external_requests.append(url)
            route.abort()

    pg.route("**/*", only_loopback)
    return context, pg


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context, pg = open_page(browser)
    yield pg
    context.close()


def shoot(page: Any, name: str) -> None:
    """A full-page screenshot kept as a test artifact (UI_ARTIFACTS_DIR, default ./ui-artifacts, ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def assert_clean(page: Any) -> None:
    """No uncaught error, no console error, nothing asked of the internet."""
    assert page.js_errors == []
    assert page.external_requests == []
