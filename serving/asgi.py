"""The HTTP surface of `tuner serve`: Open Inference Protocol V2, KServe V1, health and /metrics.

A plain ASGI callable rather than a framework app: an inference request is one path split, one JSON
parse (orjson), one signature check and one JSON dump, and a router plus request/response models would
cost more than all of that together. Paths:

    GET  /v2/health/live | /v2/health/ready | /v2 | /v2/models
    GET  /v2/models/{m}[/versions/{v}]            model metadata (name, versions, platform, inputs, outputs)
    GET  /v2/models/{m}[/versions/{v}]/ready
    POST /v2/models/{m}[/versions/{v}]/infer      {v}: a version number or an alias of the model
    GET  /v1/models | /v1/models/{m}               POST /v1/models/{m}:predict
    GET  /metrics                                  Prometheus text format

Errors are JSON `{"error": "...", ...}` (what KServe's clients read) with a 4xx for the client's
mistakes (payload that does not fit the signature: 400; unknown model or version: 404) and 500 only
when a model itself failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving.protocol import (
    PayloadError,
    decode_v1,
    decode_v2,
    dumps,
    encode_v1,
    encode_v2,
    error_body,
    parse_json,
)
from serving.server import Backend, Endpoint, ModelServer, ServeOptions
from tuner._version import __version__

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

log = logging.getLogger("tuner.serve")
_JSON = [(b"content-type", b"application/json")]


class ServingApp:
    """ASGI application around a `ModelServer` (lifespan starts and stops its watcher)."""

    def __init__(self, server: ModelServer) -> None:
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.server.start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.server.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        parts = scope["path"].strip("/").split("/")
        try:
            if method == "POST":
                body = await _read(receive)
                status, payload = await self._post(parts, body)
            elif method in ("GET", "HEAD"):
                status, payload = await self._get(parts)
            else:
                status, payload = 405, error_body(f"method {method} is not allowed here")
        except PayloadError as exc:
            status, payload = exc.status, dumps(exc.body())
        if isinstance(payload, tuple):  # (content type, bytes) for /metrics
            content_type, payload = payload
            headers = [(b"content-type", content_type)]
        else:
            headers = _JSON
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    # --- POST -------------------------------------------------------------------------------------------

    async def _post(self, parts: list[str], raw: bytes) -> tuple[int, bytes]:
        n = len(parts)
        if n >= 4 and parts[0] == "v2" and parts[1] == "models" and parts[-1] == "infer":
            if n == 4:
                return await self._infer_v2(self.server.endpoint(parts[2]), parts[2], raw)
            if n == 6 and parts[3] == "versions":
                return await self._infer_v2(await self.server.backend_for(parts[2], parts[4]), parts[2], raw)
        if n == 3 and parts[0] == "v1" and parts[1] == "models" and parts[2].endswith(":predict"):
            name = parts[2][: -len(":predict")]
            return await self._predict_v1(self.server.endpoint(name), raw)
        return 404, error_body(f"no such endpoint: POST /{'/'.join(parts)}")

    async def _infer_v2(self, target: Backend | Endpoint, name: str, raw: bytes) -> tuple[int, bytes]:
        started = time.perf_counter()
        body = parse_json(raw)
        request: dict[str, Any] = {}

        def decode(signature: Any) -> Any:
            batch, request["id"], _ = decode_v2(body, signature)
            return batch

        backend: Backend | None = None
        try:
            backend, output = await self.server.predict(target, decode)
        except PayloadError as exc:
            chosen = target if isinstance(target, Backend) else None
            if chosen is not None:
                chosen.count("v2", exc.status)
            raise
        except Exception as exc:
            log.exception("model %s failed", name)
            return 500, error_body(f"model {name} failed to predict: {type(exc).__name__}: {exc}")
        spec = backend.model.signature.outputs[0] if backend.model.signature else None
        payload = encode_v2(name, backend.model.version, request.get("id"), output, spec)
        backend.latency.observe(time.perf_counter() - started)
        backend.count("v2", 200)
        return 200, payload

    async def _predict_v1(self, target: Endpoint, raw: bytes) -> tuple[int, bytes]:
        started = time.perf_counter()
        body = parse_json(raw)
        try:
            backend, output = await self.server.predict(target, lambda signature: decode_v1(body, signature))
        except PayloadError:
            raise
        except Exception as exc:
            log.exception("model %s failed", target.ref.name)
            return 500, error_body(f"model {target.ref.name} failed to predict: {type(exc).__name__}: {exc}")
        backend.latency.observe(time.perf_counter() - started)
        backend.count("v1", 200)
        return 200, encode_v1(output)

    # --- GET --------------------------------------------------------------------------------------------

    async def _get(self, parts: list[str]) -> tuple[int, Any]:
        server = self.server
        n = len(parts)
        if parts == ["metrics"]:
            return 200, (CONTENT_TYPE_LATEST.encode(), generate_latest(server.metrics.registry))
        if parts[0] == "v2":
            if n == 1:
                return 200, dumps({"name": "tuner", "version": __version__, "extensions": []})
            if parts[1:] == ["health", "live"]:
                return 200, dumps({"live": True})
            if parts[1:] == ["health", "ready"]:
                return (200 if server.ready else 503), dumps({"ready": server.ready})
            if parts[1:] == ["models"]:
                return 200, dumps({"models": list(server.endpoints)})
            if n >= 3 and parts[1] == "models":
                ready = parts[-1] == "ready"
                rest = parts[3:-1] if ready else parts[3:]
                if not rest:
                    return 200, self._metadata(server.endpoint(parts[2]), ready)
                if len(rest) == 2 and rest[0] == "versions":
                    return 200, self._metadata(await server.backend_for(parts[2], rest[1]), ready)
        if parts[0] == "v1" and n >= 2 and parts[1] == "models":
            if n == 2:
                return 200, dumps({"models": list(server.endpoints)})
            if n == 3:
                server.endpoint(parts[2])
                return 200, dumps({"name": parts[2], "ready": True})
        return 404, error_body(f"no such endpoint: GET /{'/'.join(parts)}")

    def _metadata(self, target: Backend | Endpoint, ready: bool) -> bytes:
        if isinstance(target, Endpoint):
            assert target.routes is not None
            backend = target.routes.stable
            versions = sorted({b.label for b in target.routes.table}, key=int)
        else:
            backend, versions = target, [target.label]
        model = backend.model
        if ready:
            return dumps({"name": model.name, "ready": True})
        signature = model.signature
        return dumps(
            {
                "name": model.name,
                "versions": versions,
                "platform": f"tuner-{model.flavor}",
                "inputs": [s.to_dict() for s in signature.inputs] if signature else [],
                "outputs": [s.to_dict() for s in signature.outputs] if signature else [],
            }
        )


async def _read(receive: Receive) -> bytes:
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body"):
        return body
    chunks = [body]
    while message.get("more_body"):
        message = await receive()
        chunks.append(message.get("body", b""))
    return b"".join(chunks)


def create_app(options: ServeOptions) -> ServingApp:
    return ServingApp(ModelServer(options))


def app_from_environment() -> ServingApp:
    """The app of one uvicorn worker when `tuner serve --workers N` runs several (options in the env)."""
    import json
    import os

    return create_app(ServeOptions.from_env(json.loads(os.environ["TUNER_SERVE_OPTIONS"])))
