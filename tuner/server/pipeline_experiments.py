"""KFP-style experiments: named groups of pipeline runs in a namespace (`experiment_name=` of
`create_run_from_pipeline_func`). Kept in the data folder (`<data>/pipeline-experiments/<ns>/<name>.json`);
the id is a uuid5 of namespace and name, so every server on the folder gives the same id."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tuner.config import Settings
from tuner.errors import AlreadyExistsError, NotFoundError, Problem, SpecError

DEFAULT_EXPERIMENT = "Default"
_NAME = 128


class PipelineExperiments:
    def __init__(self, settings: Settings) -> None:
        self.root = settings.data_dir / "pipeline-experiments"

    def _path(self, namespace: str, name: str) -> Path:
        return self.root / namespace / f"{name}.json"

    @staticmethod
    def check_name(name: str) -> None:
        if not name.strip() or len(name) > _NAME or "/" in name or name.startswith("."):
            raise SpecError(
                [
                    Problem(
                        "name",
                        f"{name!r} is not an experiment name: 1-{_NAME} characters, no '/', not "
                        "starting with '.'",
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
        for path in sorted((self.root / namespace).glob("*.json")):
            try:
                found.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        return sorted(found, key=lambda d: (d.get("createdAt", ""), d.get("name", "")))
