"""An in-process `KubeClient` for fast unit tests: objects in dicts, the API server's resourceVersion rules.

What it does as the API server does: uid, resourceVersion (one counter for all objects), generation (bumped
by spec changes only), creationTimestamp; create of a taken name -> AlreadyExistsError; a merge patch whose
`metadata.resourceVersion` is stale -> ConflictError; `patch` leaves `status` alone and `patch_status`
changes only `status` (the status subresource); watch events after a resourceVersion; label selectors of
the `a=b,c=d` form. With `garbage_collect=True` a delete also deletes the objects whose ownerReferences
name it (the garbage collector of kube-controller-manager, done at once).

What it does not do: schema validation, defaulting, admission, RBAC. Tests of those use the real server
(tests/k8s). Pod logs come from `set_log` (no kubelet here either).
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from controllers.kubernetes.client import (
    EVENTS,
    JOBS,
    LEASES,
    PODS,
    AlreadyExistsError,
    ConflictError,
    KubeError,
    NotFoundError,
    Object,
    Resource,
    WatchEvent,
)

Key = tuple[str, str, str]  # (api_version/plural, namespace, name)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _matches(labels: Mapping[str, str], selector: str | None) -> bool:
    if not selector:
        return True
    for term in selector.split(","):
        term = term.strip()
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term and term not in labels:
            return False
    return True


class FakeKubeClient:
    """See the module docstring."""

    def __init__(self, resources: list[Resource] | None = None, garbage_collect: bool = True) -> None:
        self.resources: dict[tuple[str, str], Resource] = {}
        for resource in [JOBS, PODS, LEASES, EVENTS, *(resources or [])]:
            self.register(resource)
        self.garbage_collect = garbage_collect
        self.objects: dict[Key, Object] = {}
        self.events: list[tuple[int, str, Resource, Object]] = []
        self.logs: dict[tuple[str, str, str | None], str] = {}
        self.calls: list[tuple[str, str, str]] = []  # (verb, kind, name): what the tests count
        self.conflicts_to_inject = 0  # the next N conditional writes fail with ConflictError
        self._counter = itertools.count(1)
        self._lock = threading.Condition()

    def register(self, resource: Resource) -> None:
        self.resources[(resource.api_version, resource.kind)] = resource

    # -- helpers for tests ----------------------------------------------------------------------
    def set_log(self, namespace: str, pod: str, text: str, container: str | None = None) -> None:
        self.logs[(namespace, pod, container)] = text

    def all(self, resource: Resource, namespace: str | None = None) -> list[Object]:
        return self.list(resource, namespace)[0]

    # -- the protocol ---------------------------------------------------------------------------
    def resource(self, api_version: str, kind: str) -> Resource:
        found = self.resources.get((api_version, kind))
        if found is None:
            raise NotFoundError(f"the API server serves no kind {kind!r} in {api_version!r}", 404)
        return found

    def _key(self, resource: Resource, namespace: str | None, name: str) -> Key:
        return (
            f"{resource.api_version}/{resource.plural}",
            namespace or "" if resource.namespaced else "",
            name,
        )

    def get(self, resource: Resource, name: str, namespace: str | None = None) -> Object:
        self.calls.append(("get", resource.kind, name))
        with self._lock:
            found = self.objects.get(self._key(resource, namespace, name))
            if found is None:
                raise NotFoundError(f"{resource.kind} {name!r} not found", 404)
            return copy.deepcopy(found)

    def list(
        self, resource: Resource, namespace: str | None = None, label_selector: str | None = None
    ) -> tuple[list[Object], str]:
        prefix = f"{resource.api_version}/{resource.plural}"
        with self._lock:
            items = [
                copy.deepcopy(obj)
                for (kind, ns, _), obj in sorted(self.objects.items())
                if kind == prefix
                and (namespace is None or ns == namespace)
                and _matches((obj.get("metadata") or {}).get("labels") or {}, label_selector)
            ]
            return items, str(self._last_version())

    def _last_version(self) -> int:
        return self.events[-1][0] if self.events else 0

    def watch(
        self,
        resource: Resource,
        namespace: str | None = None,
        resource_version: str | None = None,
        timeout_seconds: int = 60,
    ) -> Iterator[WatchEvent]:
        seen = int(resource_version or self._last_version())
        deadline = time.monotonic() + timeout_seconds
        while True:
            with self._lock:
                pending = [
                    (version, kind, obj)
                    for version, kind, res, obj in self.events
                    if version > seen
                    and res == resource
                    and (namespace is None or obj["metadata"].get("namespace") == namespace)
                ]
                if not pending:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return
                    self._lock.wait(min(left, 0.2))
                    continue
            for version, kind, obj in pending:
                seen = version
                yield WatchEvent(kind, copy.deepcopy(obj))

    def _record(self, kind: str, resource: Resource, obj: Object) -> None:
        self.events.append((int(obj["metadata"]["resourceVersion"]), kind, resource, copy.deepcopy(obj)))
        self._lock.notify_all()

    def create(self, resource: Resource, body: Mapping[str, Any], namespace: str | None = None) -> Object:
        obj = copy.deepcopy(dict(body))
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        name = str(meta.get("name") or "")
        if not name:
            raise KubeError(f"create {resource.kind}: metadata.name is required", 422)
        self.calls.append(("create", resource.kind, name))
        with self._lock:
            key = self._key(resource, namespace, name)
            if key in self.objects:
                raise AlreadyExistsError(f"{resource.kind} {name!r} already exists", 409)
            if resource.namespaced:
                meta["namespace"] = namespace
            meta["uid"] = str(uuid.uuid4())
            meta["resourceVersion"] = str(next(self._counter))
            meta["generation"] = 1
            meta["creationTimestamp"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
            self.objects[key] = obj
            self._record("ADDED", resource, obj)
            return copy.deepcopy(obj)

    def _update(
        self, resource: Resource, name: str, patch: Mapping[str, Any], namespace: str | None, status: bool
    ) -> Object:
        self.calls.append(("patch_status" if status else "patch", resource.kind, name))
        with self._lock:
            key = self._key(resource, namespace, name)
            current = self.objects.get(key)
            if current is None:
                raise NotFoundError(f"{resource.kind} {name!r} not found", 404)
            wanted = (patch.get("metadata") or {}).get("resourceVersion")
            if wanted is not None:
                if self.conflicts_to_inject > 0:
                    self.conflicts_to_inject -= 1
                    raise ConflictError(f"{resource.kind} {name!r}: injected conflict", 409)
                if str(wanted) != current["metadata"]["resourceVersion"]:
                    raise ConflictError(
                        f"Operation cannot be fulfilled on {resource.plural} {name!r}: the object has been "
                        "modified; please apply your changes to the latest version and try again",
                        409,
                    )
            if status:
                updated = copy.deepcopy(current)
                updated["status"] = merge_patch(current.get("status"), patch.get("status") or {})
            else:
                body = {k: v for k, v in patch.items() if k != "status"}
                updated = merge_patch(current, body)
                if updated.get("spec") != current.get("spec"):
                    updated["metadata"]["generation"] = int(current["metadata"].get("generation", 1)) + 1
            if updated == current:
                return copy.deepcopy(current)
            updated["metadata"]["resourceVersion"] = str(next(self._counter))
            updated["metadata"]["uid"] = current["metadata"]["uid"]
            self.objects[key] = updated
            self._record("MODIFIED", resource, updated)
            return copy.deepcopy(updated)

    def patch(
        self, resource: Resource, name: str, patch: Mapping[str, Any], namespace: str | None = None
    ) -> Object:
        return self._update(resource, name, patch, namespace, status=False)

    def patch_status(
        self, resource: Resource, name: str, patch: Mapping[str, Any], namespace: str | None = None
    ) -> Object:
        return self._update(resource, name, patch, namespace, status=True)

    def delete(
        self, resource: Resource, name: str, namespace: str | None = None, propagation: str = "Background"
    ) -> None:
        self.calls.append(("delete", resource.kind, name))
        with self._lock:
            obj = self.objects.pop(self._key(resource, namespace, name), None)
            if obj is None:
                raise NotFoundError(f"{resource.kind} {name!r} not found", 404)
            obj["metadata"]["resourceVersion"] = str(next(self._counter))
            self._record("DELETED", resource, obj)
            uid = obj["metadata"]["uid"]
        if self.garbage_collect and propagation != "Orphan":
            for (_, ns, child_name), child in list(self.objects.items()):
                owners = (child.get("metadata") or {}).get("ownerReferences") or []
                if any(o.get("uid") == uid for o in owners):
                    child_resource = self.resources.get((child["apiVersion"], child["kind"]))
                    if child_resource is not None:
                        try:
                            self.delete(child_resource, child_name, ns or None, propagation)
                        except NotFoundError:
                            pass

    def pod_log(self, namespace: str, pod: str, container: str | None = None) -> str:
        text = self.logs.get((namespace, pod, container))
        if text is None:
            text = self.logs.get((namespace, pod, None))
        if text is None:
            raise KubeError(f"log of pod {pod}: no log (the pod never ran on a node)", 400)
        return text
