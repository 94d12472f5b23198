"""Real HTTP servers on loopback ports for the suggestion service tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LoopbackServer:
    """A uvicorn server in a thread of the test process, on 127.0.0.1."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + 120  # waits for the state; the bound only ends a hang
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture
def serve() -> Iterator[Callable[[FastAPI], LoopbackServer]]:
    """Start apps on loopback ports; every server is stopped after the test."""
    servers: list[LoopbackServer] = []

    def start(app: FastAPI) -> LoopbackServer:
        server = LoopbackServer(app).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
