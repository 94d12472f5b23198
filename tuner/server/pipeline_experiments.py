"""KFP-style experiments: named groups of pipeline runs in a namespace (`experiment_name=` of
`create_run_from_pipeline_func`). Kept in the data folder (`<data>/pipeline-experiments/<ns>/<name>.json`);
the id is a uuid5 of namespace and name, so every server on the folder gives the same id."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tuner.config import Settings
from tuner.errors import AlreadyExistsError, NotFoundError, Problem, SpecError

DEFAULT_EXPERIMENT = "Default"
_NAME = 128
_NAME_BYTES = 200  # a file name holds 255 bytes; a character may take 4
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")  # Kubernetes' namespace names


def _usable_in_path(text: str) -> bool:
    """No separator, no control character and no lone surrogate (a NUL or a surrogate fails every file
    call with ValueError)."""
    return (
        "/" not in text
        and "\\" not in text
        and all(31 < ord(c) != 127 and not 0xD800 <= ord(c) <= 0xDFFF for c in text)
    )


class PipelineExperiments:
    def __init__(self, settings: Settings) -> None:
        self.root = settings.data_dir / "pipeline-experiments"

    def _path(self, namespace: str, name: str) -> Path:
        return self._folder(namespace) / f"{name}.json"

    def _folder(self, namespace: str) -> Path:
        if not _NAMESPACE.fullmatch(namespace):
            raise NotFoundError(
                f"no namespace {namespace!r}: a namespace is 1-63 lower-case letters, digits and '-'"
            )
        return self.root / namespace

    @staticmethod
    def check_name(name: str) -> None:
        usable = _usable_in_path(name) and len(name.encode("utf-8")) <= _NAME_BYTES
        if not name.strip() or len(name) > _NAME or not usable or name.startswith("."):
            raise SpecError(
                [
                    Problem(
                        "name",
                        f"{name!r} is not an experiment name: 1-{_NAME} characters ({_NAME_BYTES} bytes in "
                        "UTF-8), no '/', '\\' or control characters, not starting with '.'",
                    )
                ],
                "<request>",
            )

    def create(self, namespace: str, name: str, description: str = "") -> dict[str, Any]:
        """Raises AlreadyExistsError when it exists."""
        self.check_name(name)
        path = self._path(namespace, name)
        document = {
            "id": uuid.uuid5(uuid.NAMESPACE_URL, f"tuner:{namespace}/{name}").hex,
            "name": name,
            "namespace": namespace,
            "description": description,
            "createdAt": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x", encoding="utf-8") as handle:
                json.dump(document, handle)
        except FileExistsError:
            raise AlreadyExistsError(
                f"a pipeline experiment called {name!r} exists in namespace {namespace!r}"
            ) from None
        return document

    def ensure(self, namespace: str, name: str) -> dict[str, Any]:
        try:
            return self.get(namespace, name)
        except NotFoundError:
            try:
                return self.create(namespace, name)
            except AlreadyExistsError:
                return self.get(namespace, name)

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        self.check_name(name)
        try:
            data: dict[str, Any] = json.loads(self._path(namespace, name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise NotFoundError(
                f"no pipeline experiment called {name!r} in namespace {namespace!r}"
            ) from None
        return data

    def list(self, namespace: str) -> list[dict[str, Any]]:
        found = []
        for path in sorted(self._folder(namespace).glob("*.json")):
            try:
                found.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        return sorted(found, key=lambda d: (d.get("createdAt", ""), d.get("name", "")))
