"""The model server's state: what each served name routes to, kept in step with the registry.

`ModelServer` holds one `Endpoint` per served reference (`NAME@alias`, `NAME/3` or `NAME`). An alias's
endpoint follows the traffic split of the alias's deployment; a watcher re-reads it every
`poll_interval` seconds in a thread, loads any new version completely (verified, warmed up) and only
then swaps the endpoint's routes in one assignment on the event loop, so requests in flight finish on
the version they started with and none fail during a promotion. A canary is watched by a
`CanaryMonitor`; when it crosses a threshold the endpoint stops using it at once and the rollback is
written to the registry (traffic back to the last good revision, a `rollback` event with the reason).
A canary request that fails is answered by the stable version, so clients see no failure either way.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from serving.batching import MicroBatcher
from serving.canary import CanaryMonitor, CanaryPolicy
from serving.loader import LoadedModel, load_version
from serving.metrics import ServerMetrics
from serving.protocol import PayloadError
from serving.registry import CANARY, Registry
from serving.uris import ModelRef, parse_model_ref
from tuner.artifacts import open_artifact_store
from tuner.config import Settings
from tuner.errors import NotFoundError
from tuner.store import Store, open_store

log = logging.getLogger("tuner.serve")


@dataclass(frozen=True)
class ServeOptions:
    """How `tuner serve` behaves (its flags)."""

    refs: tuple[str, ...]
    store_url: str = ""
    artifacts_url: str = ""
    poll_interval: float = 1.0
    max_batch_size: int = 32
    max_wait_ms: float = 0.0
    canary: CanaryPolicy = field(default_factory=CanaryPolicy)
    cache_dir: str = ""

    def to_env(self) -> dict[str, Any]:
        return {
            "refs": list(self.refs),
            "store_url": self.store_url,
            "artifacts_url": self.artifacts_url,
            "poll_interval": self.poll_interval,
            "max_batch_size": self.max_batch_size,
            "max_wait_ms": self.max_wait_ms,
            "canary": vars(self.canary),
            "cache_dir": self.cache_dir,
        }

    @classmethod
    def from_env(cls, data: dict[str, Any]) -> ServeOptions:
        return cls(
            refs=tuple(data["refs"]),
            store_url=data["store_url"],
            artifacts_url=data["artifacts_url"],
            poll_interval=float(data["poll_interval"]),
            max_batch_size=int(data["max_batch_size"]),
            max_wait_ms=float(data["max_wait_ms"]),
            canary=CanaryPolicy(**data["canary"]),
            cache_dir=data["cache_dir"],
        )


class Backend:
    """One loaded version with its micro-batcher and cached metric children."""

    def __init__(self, model: LoadedModel, options: ServeOptions, metrics: ServerMetrics) -> None:
        self.model = model
        self.label = str(model.version)
        rows = metrics.batch_rows.labels(model.name, self.label)
        self.batcher = MicroBatcher(
            model.predict,
            max_batch_size=options.max_batch_size,
            max_wait=options.max_wait_ms / 1000,
            on_batch=rows.observe,
        )
        self.latency = metrics.latency.labels(model.name, self.label)
        self._counters: dict[tuple[str, int], Any] = {}
        self._metrics = metrics

    def count(self, protocol: str, code: int) -> None:
        counter = self._counters.get((protocol, code))
        if counter is None:
            counter = self._metrics.requests.labels(self.model.name, self.label, protocol, str(code))
            self._counters[(protocol, code)] = counter
        counter.inc()


@dataclass
class Routes:
    """An endpoint's current split: a 100-slot table (smoothly interleaved) and the stable backend."""

    key: tuple[Any, ...]
    table: list[Backend]
    stable: Backend
    canary: Backend | None = None
    monitor: CanaryMonitor | None = None
    deployment_id: int | None = None


def slot_table(weights: Sequence[tuple[Backend, int]]) -> list[Backend]:
    """100 slots, each backend holding its percent, spread out (smooth weighted round robin)."""
    current = [0] * len(weights)
    table: list[Backend] = []
    for _ in range(100):
        for i, (_, weight) in enumerate(weights):
            current[i] += weight
        best = max(range(len(weights)), key=current.__getitem__)
        current[best] -= 100
        table.append(weights[best][0])
    return table


class Endpoint:
    """A served reference and what it routes to right now."""

    def __init__(self, ref: ModelRef) -> None:
        self.ref = ref
        self.routes: Routes | None = None
        self._counter = itertools.count()

    def choose(self) -> tuple[Backend, bool]:
        routes = self.routes
        assert routes is not None
        backend = routes.table[next(self._counter) % 100]
        return backend, backend is routes.canary


class ModelServer:
    """Everything `tuner serve` serves, and the watcher that keeps it current."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.settings = Settings.from_env(
            store_url=options.store_url or None, artifacts_url=options.artifacts_url or None
        )
        self.metrics = ServerMetrics()
        self.store: Store | None = None
        self.registry: Registry | None = None
        self.artifacts = open_artifact_store(settings=self.settings)
        self.cache = Path(options.cache_dir or tempfile.mkdtemp(prefix="tuner-serve-"))
        self.endpoints: dict[str, Endpoint] = {}
        self.aliases: dict[tuple[str, str], Endpoint] = {}
        self.backends: dict[int, Backend] = {}
        self._load_locks: dict[int, asyncio.Lock] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._rolling: set[int] = set()
        self.ready = False
        refs = [parse_model_ref(text) for text in options.refs]
        for ref in refs:
            endpoint = Endpoint(ref)
            self.endpoints.setdefault(ref.name, endpoint)
            if ref.alias is not None:
                self.aliases[(ref.name, ref.alias)] = endpoint
        self.served = [endpoint for ref in refs for endpoint in [self._endpoint_for(ref)]]

    def _endpoint_for(self, ref: ModelRef) -> Endpoint:
        if ref.alias is not None:
            return self.aliases[(ref.name, ref.alias)]
        endpoint = self.endpoints[ref.name]
        return endpoint if endpoint.ref == ref else Endpoint(ref)

    # --- life -------------------------------------------------------------------------------------------

    def open(self) -> None:
        """Connect to the store and load every served reference (blocking; raises on the first failure)."""
        self.store = open_store(self.settings.store_url)
        actor = f"tuner serve ({socket.gethostname()} pid {os.getpid()})"
        self.registry = Registry(self.store, actor=actor)
        for endpoint in self.served:
            plan = self._plan(endpoint)
            self._apply(endpoint, plan, self._load_plan(plan))
        self.ready = True

    async def start(self) -> None:
        if self.store is None:
            await asyncio.to_thread(self.open)
        self.ready = True
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            try:
                await self._watcher
            except asyncio.CancelledError:
                pass
        if self.store is not None:
            self.store.close()
            self.store = None

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.options.poll_interval)
            try:
                await self.sync()
            except Exception as exc:  # the store may be briefly unreachable: keep serving what we have
                log.warning("could not refresh routes from the registry: %s", exc)

    async def sync(self) -> None:
        """Re-read every endpoint's routes; load what is new off the loop, then swap on the loop."""
        for endpoint in self.served:
            if endpoint.routes is not None and endpoint.routes.deployment_id in self._rolling:
                continue  # our own rollback is being written; the registry is about to say the same
            plan = await asyncio.to_thread(self._plan, endpoint)
            if endpoint.routes is not None and endpoint.routes.key == plan["key"]:
                continue
            if endpoint.routes is not None and endpoint.routes.deployment_id in self._rolling:
                continue
            loaded = await asyncio.to_thread(self._load_plan, plan)
            self._apply(endpoint, plan, loaded)

    # --- planning (threads) -----------------------------------------------------------------------------

    def _plan(self, endpoint: Endpoint) -> dict[str, Any]:
        """What the endpoint should route to, read from the registry."""
        assert self.registry is not None
        ref = endpoint.ref
        if ref.alias is not None:
            deployment, routes = self.registry.routes(ref.name, ref.alias)
            entries = [(r.version, r.percent, r.tag, r.revision.id) for r in routes if r.percent > 0]
            last_good = deployment.last_good_revision_id
            key = (deployment.id, tuple((e[3], e[1]) for e in entries))
            return {
                "name": ref.name,
                "key": key,
                "entries": entries,
                "deployment": deployment.id,
                "last_good": last_good,
            }
        _, version = self.registry.resolve(ref)
        return {"name": ref.name, "key": (version.id,), "entries": [(version, 100, "stable", None)]}

    def _load_plan(self, plan: dict[str, Any]) -> dict[int, LoadedModel]:
        loaded: dict[int, LoadedModel] = {}
        for version, *_ in plan["entries"]:
            if version.id not in self.backends:
                loaded[version.id] = self._load(plan["name"], version)
        return loaded

    def _load(self, name: str, version: Any) -> LoadedModel:
        assert self.registry is not None
        artifact = self.registry.artifact(version)
        loaded = load_version(name, version, artifact, self.artifacts, self.cache)
        _warm_up(loaded)
        return loaded

    # --- applying (event loop) --------------------------------------------------------------------------

    def _apply(self, endpoint: Endpoint, plan: dict[str, Any], loaded: dict[int, LoadedModel]) -> None:
        for version_id, model in loaded.items():
            self.backends.setdefault(version_id, Backend(model, self.options, self.metrics))
        weights = [(self.backends[version.id], percent) for version, percent, _, _ in plan["entries"]]
        tags = {version.id: tag for version, _, tag, _ in plan["entries"]}
        stable = next((b for b, _ in weights if tags[b.model.version_id] != CANARY), weights[0][0])
        canary = next((b for b, _ in weights if tags[b.model.version_id] == CANARY), None)
        previous = endpoint.routes
        monitor = None
        if canary is not None:
            if previous is not None and previous.canary is canary and previous.monitor is not None:
                monitor = previous.monitor
            else:
                monitor = CanaryMonitor(self.options.canary, f"version {canary.model.version}")
        endpoint.routes = Routes(
            key=plan["key"],
            table=slot_table(weights),
            stable=stable,
            canary=canary,
            monitor=monitor,
            deployment_id=plan.get("deployment"),
        )
        ref = endpoint.ref
        if ref.alias is not None:
            if previous is not None:
                self.metrics.swaps.labels(ref.name, ref.alias).inc()
            self.metrics.traffic.clear()  # only current splits are reported
            for other in self.aliases.values():
                if other.routes is None:
                    continue
                for backend, percent in _percents(other.routes):
                    self.metrics.traffic.labels(other.ref.name, other.ref.alias, backend.label).set(percent)
        log.info("%s now routes to %s", ref, ", ".join(f"v{b.label} {p}%" for b, p in weights))

    # --- requests ---------------------------------------------------------------------------------------

    def endpoint(self, name: str) -> Endpoint:
        endpoint = self.endpoints.get(name)
        if endpoint is None or endpoint.routes is None:
            raise PayloadError(
                "model",
                f"model {name!r} is not served here (served: {', '.join(self.endpoints)})",
                status=404,
            )
        return endpoint

    async def backend_for(self, name: str, token: str) -> Backend | Endpoint:
        """What `/versions/{token}` names: a served alias's endpoint, or a version (loaded on first use)."""
        endpoint = self.aliases.get((name, token))
        if endpoint is not None and endpoint.routes is not None:
            return endpoint
        self.endpoint(name)  # only models that are served
        ref = ModelRef(name, version=int(token)) if token.isdecimal() else ModelRef(name, alias=token)
        assert self.registry is not None
        try:
            _, version = await asyncio.to_thread(self.registry.resolve, ref)
        except (NotFoundError, ValueError) as exc:
            raise PayloadError("version", str(exc), status=404) from None
        backend = self.backends.get(version.id)
        if backend is None:
            lock = self._load_locks.setdefault(version.id, asyncio.Lock())
            async with lock:
                backend = self.backends.get(version.id)
                if backend is None:
                    model = await asyncio.to_thread(self._load, name, version)
                    backend = self.backends.setdefault(version.id, Backend(model, self.options, self.metrics))
        return backend

    async def predict(self, target: Backend | Endpoint, decode: Any) -> tuple[Backend, Any]:
        """Decode for the chosen backend and predict; a failing canary falls back to the stable one."""
        if isinstance(target, Backend):
            batch = decode(target.model.signature)
            return target, await target.batcher.predict(batch)
        routes = target.routes
        assert routes is not None
        backend, is_canary = target.choose()
        batch = decode(backend.model.signature)
        if not is_canary:
            return backend, await backend.batcher.predict(batch)
        started = time.perf_counter()
        try:
            output = await backend.batcher.predict(batch)
        except Exception as exc:
            self._judge(target, routes, False, time.perf_counter() - started)
            log.warning("canary v%s failed (%s); answering with v%s", backend.label, exc, routes.stable.label)
            self.metrics.fallbacks.labels(backend.model.name, backend.label).inc()
            stable = routes.stable
            return stable, await stable.batcher.predict(decode(stable.model.signature))
        self._judge(target, routes, True, time.perf_counter() - started)
        return backend, output

    def _judge(self, endpoint: Endpoint, routes: Routes, ok: bool, seconds: float) -> None:
        if routes.monitor is None:
            return
        reason = routes.monitor.record(ok, seconds)
        if reason is None:
            return
        # stop using the canary now; then write the rollback to the registry
        stable = routes.stable
        endpoint.routes = Routes(
            key=("rolled back", routes.key),
            table=[stable] * 100,
            stable=stable,
            deployment_id=routes.deployment_id,
        )
        ref = endpoint.ref
        self.metrics.rollbacks.labels(ref.name, ref.alias or "").inc()
        log.warning("%s: %s", ref, reason)
        if routes.deployment_id is not None:
            self._rolling.add(routes.deployment_id)
            asyncio.get_running_loop().create_task(self._record_rollback(routes.deployment_id, reason))

    async def _record_rollback(self, deployment_id: int, reason: str) -> None:
        assert self.registry is not None
        text = f"{reason}; policy: {self.options.canary.describe()}"
        try:
            await asyncio.to_thread(self.registry.rollback, deployment_id, reason=text)
        except Exception as exc:
            log.error("could not record the rollback in the registry: %s", exc)
        finally:
            self._rolling.discard(deployment_id)


def _percents(routes: Routes) -> list[tuple[Backend, int]]:
    counts: dict[int, tuple[Backend, int]] = {}
    for backend in routes.table:
        seen = counts.get(id(backend))
        counts[id(backend)] = (backend, (seen[1] if seen else 0) + 1)
    return list(counts.values())


def _warm_up(model: LoadedModel) -> None:
    """Run the stored input example once, so the first real request does not pay for lazy imports."""
    if model.signature is None or not model.signature.inputs:
        return
    spec = model.signature.inputs[0]
    shape = [1 if d < 0 else d for d in spec.shape]
    if spec.dtype.kind == "O":
        return
    try:
        model.predict(np.zeros(shape, dtype=spec.dtype))
    except Exception as exc:  # a model that refuses zeros is still served; its requests will tell
        log.info("warm-up of %s v%s skipped: %s", model.name, model.version, exc)
