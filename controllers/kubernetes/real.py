"""`KubeClient` on the official `kubernetes` package: plain REST calls through its `ApiClient`.

The typed per-group classes of the official client are not used: the operator handles any kind (a Job, a
PyTorchJob, an Argo Workflow, its own custom resources) as dicts, so every call goes through
the client's connection pool with the resource's path. Discovery answers are cached per group/version.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from controllers.kubernetes.client import (
    AlreadyExistsError,
    ConflictError,
    KubeError,
    NotFoundError,
    Object,
    Resource,
    WatchEvent,
)


def load_api_client(kubeconfig: str | None = None, context: str | None = None) -> k8s.ApiClient:
    """An ApiClient from the in-cluster service account, else from the kubeconfig (KUBECONFIG, ~/.kube)."""
    configuration = k8s.Configuration()
    if kubeconfig is None:
        try:
            k8s_config.load_incluster_config(client_configuration=configuration)
            return k8s.ApiClient(configuration)
        except k8s_config.ConfigException:
            pass
    k8s_config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
    return k8s.ApiClient(configuration)


def _error(status: int, text: bytes | str | None, what: str) -> KubeError:
    reason = ""
    message = ""
    try:
        body = json.loads(text or "{}")
        reason = str(body.get("reason") or "")
        message = str(body.get("message") or message)
    except (TypeError, ValueError):
        pass
    text = f"{what}: {status} {message}"
    if status == 404:
        return NotFoundError(text, status)
    if status == 409 and reason == "AlreadyExists":
        return AlreadyExistsError(text, status)
    if status == 409:
        return ConflictError(text, status)
    return KubeError(text, status)


class RealKubeClient:
    """The `KubeClient` protocol against a real API server (see the module docstring)."""

    def __init__(self, api: k8s.ApiClient, request_timeout: float = 30.0) -> None:
        self.api = api
        self.request_timeout = request_timeout
        self._discovery: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    # -- plumbing -------------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, Any]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        what: str = "",
        timeout: float | None = None,
        stream: bool = False,
    ) -> Any:
        """One request on the client's connection pool (its TLS settings), with its bearer token.

        (`ApiClient.call_api` changed its signature between client releases; the pool and
        `Configuration.auth_settings` did not.)
        """
        configuration = self.api.configuration
        url = configuration.host.rstrip("/") + path + (f"?{urlencode(query)}" if query else "")
        headers = {"Accept": "application/json", "Content-Type": content_type}
        for auth in configuration.auth_settings().values():
            if auth.get("in") == "header" and auth.get("value"):
                headers[str(auth["key"])] = str(auth["value"])
        data = json.dumps(body).encode() if body is not None else None
        try:
            response = self.api.rest_client.pool_manager.request(
                method,
                url,
                body=data,
                headers=headers,
                preload_content=not stream,
                timeout=urllib3.Timeout(connect=10.0, read=timeout or self.request_timeout),
                retries=False,
            )
        except Exception as exc:  # urllib3 connection errors and friends
            raise KubeError(f"{what or method + ' ' + path}: {exc}") from exc
        if response.status >= 400:
            text = response.data if not stream else response.read()
            raise _error(response.status, text, what or f"{method} {path}")
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        data = self._send(method, path, **kwargs).data
        return json.loads(data) if data else {}

    # -- the protocol ---------------------------------------------------------------------------
    def resource(self, api_version: str, kind: str) -> Resource:
        group, _, version = api_version.rpartition("/")
        with self._lock:
            found = self._discovery.get(api_version)
        if found is None:
            path = f"/apis/{api_version}" if group else f"/api/{version}"
            found = list(self._json("GET", path, what=f"discovery of {api_version}").get("resources") or [])
            with self._lock:
                self._discovery[api_version] = found
        for item in found:
            if item.get("kind") == kind and "/" not in str(item.get("name", "")):
                return Resource(group, version, kind, str(item["name"]), bool(item.get("namespaced")))
        raise NotFoundError(f"the API server serves no kind {kind!r} in {api_version!r}", 404)

    def get(self, resource: Resource, name: str, namespace: str | None = None) -> Object:
        result: Object = self._json("GET", resource.path(namespace, name), what=f"get {resource.kind} {name}")
        return result

    def list(
        self, resource: Resource, namespace: str | None = None, label_selector: str | None = None
    ) -> tuple[list[Object], str]:
        query = [("labelSelector", label_selector)] if label_selector else []
        data = self._json("GET", resource.path(namespace), query=query, what=f"list {resource.plural}")
        return list(data.get("items") or []), str((data.get("metadata") or {}).get("resourceVersion", ""))

    def watch(
        self,
        resource: Resource,
        namespace: str | None = None,
        resource_version: str | None = None,
        timeout_seconds: int = 60,
    ) -> Iterator[WatchEvent]:
        query: list[tuple[str, Any]] = [("watch", "true"), ("timeoutSeconds", timeout_seconds)]
        if resource_version:
            query.append(("resourceVersion", resource_version))
        response = self._send(
            "GET",
            resource.path(namespace),
            query=query,
            what=f"watch {resource.plural}",
            timeout=timeout_seconds + 10,
            stream=True,
        )
        try:
            pending = b""
            for chunk in response.stream(4096, decode_content=True):
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if line.strip():
                        yield self._event(resource, line)
            if pending.strip():
                yield self._event(resource, pending)
        except KubeError:
            raise
        except Exception as exc:  # the stream broke (server restart, network): the caller watches again
            raise KubeError(f"watch {resource.plural} ended: {exc}") from exc
        finally:
            response.release_conn()

    @staticmethod
    def _event(resource: Resource, line: bytes) -> WatchEvent:
        event = json.loads(line)
        kind = str(event.get("type", ""))
        obj = event.get("object") or {}
        if kind == "ERROR":
            code = int(obj.get("code") or 0)
            if code == 410:  # the resourceVersion is too old: the caller lists again
                raise ConflictError(f"watch {resource.plural}: {obj.get('message')}", 410)
            raise KubeError(f"watch {resource.plural}: {obj.get('message')}", code)
        return WatchEvent(kind, obj)

    def create(self, resource: Resource, body: Mapping[str, Any], namespace: str | None = None) -> Object:
        name = (body.get("metadata") or {}).get("name", "")
        result: Object = self._json(
            "POST", resource.path(namespace), body=dict(body), what=f"create {resource.kind} {name}"
        )
        return result

    def patch(
        self, resource: Resource, name: str, patch: Mapping[str, Any], namespace: str | None = None
    ) -> Object:
        result: Object = self._json(
            "PATCH",
            resource.path(namespace, name),
            body=dict(patch),
            content_type="application/merge-patch+json",
            what=f"patch {resource.kind} {name}",
        )
        return result

    def patch_status(
        self, resource: Resource, name: str, patch: Mapping[str, Any], namespace: str | None = None
    ) -> Object:
        result: Object = self._json(
            "PATCH",
            resource.path(namespace, name, "status"),
            body=dict(patch),
            content_type="application/merge-patch+json",
            what=f"patch the status of {resource.kind} {name}",
        )
        return result

    def delete(
        self, resource: Resource, name: str, namespace: str | None = None, propagation: str = "Background"
    ) -> None:
        self._send(
            "DELETE",
            resource.path(namespace, name),
            body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation},
            what=f"delete {resource.kind} {name}",
        )

    def pod_log(self, namespace: str, pod: str, container: str | None = None) -> str:
        query = [("container", container)] if container else []
        data = self._send(
            "GET",
            f"/api/v1/namespaces/{namespace}/pods/{pod}/log",
            query=query,
            content_type="text/plain",
            what=f"log of pod {pod}",
        ).data
        return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
