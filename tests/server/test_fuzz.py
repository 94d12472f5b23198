"""Schema-driven fuzzing (schemathesis, every check; see tests/fuzzing.py) of a real `tuner server` with
tokens: no 5xx and every response as its published OpenAPI says."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

import yaml

from tests.fuzzing import fuzz
from tests.server.conftest import ServerProcess

ADMIN_TOKEN = "tuner_" + secrets.token_urlsafe(24)

# A schema-valid request may still be refused with 422 naming the field: the OpenAPI gives types, the server
# checks meaning a JSON schema cannot say (an experiment by tuner.spec, names by their grammar, opaque cursors
# that only the server gives, a model reference NAME, NAME/VERSION or NAME@ALIAS). Every other check is strict.
CONFIG = """
[[operations]]
include-path-regex = "^/api/v1/"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
"""


def test_server_api_conforms_to_its_openapi(tmp_path: Path) -> None:
    digest = hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()
    auth_file = tmp_path / "tokens.yaml"
    auth_file.write_text(
        yaml.safe_dump({"tokens": [{"sha256": digest, "namespaces": ["*"], "role": "admin"}]})
    )
    home = tmp_path / "home"
    home.mkdir()
    server = ServerProcess(home, f"sqlite:///{tmp_path / 'tuner.db'}", args=["--auth-file", str(auth_file)])
    server.start()
    try:
        count, failures = fuzz(
            f"{server.url}/api/v1/openapi.json", CONFIG, {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
    finally:
        server.stop()
    assert count >= 20  # experiments, trials, models, session, health
    assert not failures, "\n\n".join(failures)
