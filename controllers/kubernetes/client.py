"""The operator's whole view of the Kubernetes API: a thin `KubeClient` protocol over any group/version/kind.

Why a protocol of our own: the operator needs a dozen calls (get, list, watch, create, merge-patch, status
patch, delete, pod logs, discovery), the official client spreads them over typed classes per group, and unit
tests want an in-process fake (`controllers.kubernetes.fake`) that obeys the same rules the API server
enforces on resourceVersion. `controllers.kubernetes.real.RealKubeClient` is the implementation on the
official `kubernetes` package.

Errors are three types, whatever the implementation:
    NotFoundError       404: the object (or its kind) does not exist
    AlreadyExistsError  409 with reason AlreadyExists: create of a name that is taken
    ConflictError       409 otherwise: the resourceVersion sent is stale (optimistic concurrency); read
                        again and retry (`retry_on_conflict`)
Anything else is a `KubeError` carrying the HTTP status.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

Object = dict[str, Any]


class KubeError(Exception):
    """An API call failed; `status` is the HTTP status (0 when the server could not be reached)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class NotFoundError(KubeError):
    """404: the object or its kind does not exist."""


class AlreadyExistsError(KubeError):
    """409 AlreadyExists: an object of that name exists."""


class ConflictError(KubeError):
    """409 Conflict: the resourceVersion sent is not the object's current one; read again and retry."""


@dataclass(frozen=True)
class Resource:
    """One kind of object and where the API serves it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None, sub: str | None = None) -> str:
        """The REST path of the collection, of one object, or of one object's subresource."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
            if sub:
                base += f"/{sub}"
        return base


JOBS = Resource("batch", "v1", "Job", "jobs")
PODS = Resource("", "v1", "Pod", "pods")
LEASES = Resource("coordination.k8s.io", "v1", "Lease", "leases")
EVENTS = Resource("", "v1", "Event", "events")


@dataclass(frozen=True)
class WatchEvent:
    """One watch event: ADDED, MODIFIED, DELETED (or BOOKMARK/ERROR, which callers skip)."""

    type: str
    object: Object


class KubeClient(Protocol):
    """What the operator calls (see the module docstring). Every method may raise `KubeError`."""

    def resource(self, api_version: str, kind: str) -> Resource:
        """The resource serving `kind` of `api_version` (discovery); NotFoundError when none does."""
        ...

    def get(self, resource: Resource, name: str, namespace: str | None = None) -> Object: ...

    def list(
        self, resource: Resource, namespace: str | None = None, label_selector: str | None = None
    ) -> tuple[list[Object], str]:
        """The objects (all namespaces when `namespace` is None) and the list's resourceVersion."""
        ...

    def watch(
        self,
        resource: Resource,
        namespace: str | None = None,
        resource_version: str | None = None,
        timeout_seconds: int = 60,
    ) -> Iterator[WatchEvent]:
        """Events after `resource_version` until the server ends the stream (about `timeout_seconds`)."""
        ...

    def create(self, resource: Resource, body: Mapping[str, Any], namespace: str | None = None) -> Object: ...

    def patch(
        self, resource: Resource, name: str, patch: Mapping[str, Any], namespace: str | None = None
    ) -> Object:
        """A JSON merge patch (RFC 7386); `metadata.resourceVersion` in it makes it conditional."""
        ...

    def patch_status(
        self, resource: Resource, name: str, patch: Mapping[str, Any], namespace: str | None = None
    ) -> Object:
        """A merge patch of the `/status` subresource (conditional as `patch`)."""
        ...

    def delete(
        self, resource: Resource, name: str, namespace: str | None = None, propagation: str = "Background"
    ) -> None:
        """Delete; NotFoundError when it is gone already."""
        ...

    def pod_log(self, namespace: str, pod: str, container: str | None = None) -> str:
        """The container's log (the kubelet serves it; an API server without nodes answers 400)."""
        ...


T = TypeVar("T")


def retry_on_conflict(action: Callable[[], T], attempts: int = 8, backoff: float = 0.05) -> T:
    """Run `action` (which reads the object fresh each time) until it does not hit a ConflictError."""
    delay = backoff
    for attempt in range(attempts):
        try:
            return action()
        except ConflictError:
            if attempt == attempts - 1:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    raise AssertionError("unreachable")


def owner_reference(owner: Mapping[str, Any], controller: bool = True) -> dict[str, Any]:
    """An ownerReference to `owner` (deleting the owner deletes the object: Kubernetes' garbage collector)."""
    meta = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }
