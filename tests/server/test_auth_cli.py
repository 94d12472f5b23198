"""`tuner server` refusing to listen open on a network address, the token commands, the token file's errors,
and the clients (`tuner submit --token`, every `--server` command's `--token`, `tuner.Client(token=...)`)
against a real server with tokens."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml

from tests.server.conftest import ROOT, ServerProcess, trial_experiment
from tuner.client import Client
from tuner.errors import ConfigError, TunerError
from tuner.server.tokens import ALL_NAMESPACES, Role, parse_tokens

DIGEST = hashlib.sha256(b"secret").hexdigest()


def _tuner(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuner.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def test_network_address_without_auth_is_refused_in_one_line(tmp_path: Path) -> None:
    env = {"TUNER_HOME": str(tmp_path)}
    done = _tuner("server", "--host", "0.0.0.0", "--port", "0", env=env)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "0.0.0.0" in line and "--auth-file" in line and "--insecure-no-auth" in line


def test_bad_auth_file_and_trace_logging_are_refused(tmp_path: Path) -> None:
    env = {"TUNER_HOME": str(tmp_path)}
    bad = tmp_path / "tokens.yaml"
    bad.write_text(
        yaml.safe_dump({"tokens": [{"name": "a", "token": "clear", "namespaces": ["x"], "role": "viewer"}]})
    )
    done = _tuner("server", "--port", "0", "--auth-file", str(bad), env=env)
    assert done.returncode == 2
    assert "tokens[0].token" in done.stderr and "hash-token" in done.stderr
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({"tokens": [{"sha256": DIGEST, "namespace": "x", "role": "viewer"}]}))
    traced = _tuner("server", "--port", "0", "--auth-file", str(good), "--log-level", "trace", env=env)
    assert traced.returncode == 2 and "headers" in traced.stderr
    both = _tuner("server", "--port", "0", "--auth-file", str(good), "--insecure-no-auth", env=env)
    assert both.returncode == 2 and "--insecure-no-auth" in both.stderr


def test_token_create_prints_a_token_and_the_line_for_the_file() -> None:
    done = _tuner(
        "server",
        "token",
        "create",
        "--namespace",
        "team-a",
        "-n",
        "team-b",
        "--role",
        "editor",
        "--name",
        "ci",
    )
    assert done.returncode == 0, done.stderr
    token, line = done.stdout.strip().splitlines()
    assert token.startswith("tuner_") and len(token) > 40 and token not in line
    table = parse_tokens("tokens:\n" + line + "\n", "pasted")
    entry = table.lookup(token)
    assert entry is not None and entry.principal.name == "ci"
    assert dict(entry.principal.grants) == {"team-a": Role.editor, "team-b": Role.editor}
    again = _tuner("server", "token", "create", "--namespace", "team-a")
    assert again.stdout.splitlines()[0] != token  # random each time
    hashed = _tuner("server", "hash-token", stdin=token + "\n")
    assert hashed.returncode == 0 and hashed.stdout.strip() == hashlib.sha256(token.encode()).hexdigest()
    refused = _tuner("server", "token", "create", "--namespace", "Team_A", "--role", "owner")
    assert refused.returncode == 2 and "--role" in refused.stderr and "owner" in refused.stderr


@pytest.mark.parametrize(
    ("entry", "names"),
    [
        ({"sha256": "abc", "namespaces": ["x"], "role": "viewer"}, "tokens[0].sha256"),
        ({"sha256": DIGEST, "namespaces": ["x"], "role": "owner"}, "tokens[0].role: 'owner'"),
        ({"sha256": DIGEST, "namespaces": [], "role": "viewer"}, "tokens[0].namespaces"),
        ({"sha256": DIGEST, "namespaces": ["Team_A"], "role": "viewer"}, "tokens[0].namespaces: 'Team_A'"),
        ({"sha256": DIGEST, "namespaces": ["x"], "role": "viewer", "roles": 1}, "unknown field 'roles'"),
    ],
)
def test_token_file_errors_name_the_field(entry: dict[str, object], names: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_tokens(yaml.safe_dump({"tokens": [entry]}), "tokens.yaml")
    assert names in str(caught.value) and "tokens.yaml" in str(caught.value)


def test_roles_and_wildcard_grants() -> None:
    table = parse_tokens(
        yaml.safe_dump(
            [
                {"name": "root", "sha256": DIGEST, "namespaces": [ALL_NAMESPACES], "role": "admin"},
                {"name": "v", "sha256": "0" * 64, "namespace": "a", "role": "viewer"},
            ]
        ),
        "env",
    )
    root = table.lookup("secret")
    assert root is not None and root.principal.cluster_admin and root.principal.may(Role.editor, "anything")
    viewer = table.by_digest("0" * 64)
    assert viewer is not None and not viewer.principal.may(Role.editor, "a")
    assert viewer.principal.may(Role.viewer, "a") and viewer.principal.readable() == frozenset({"a"})
    assert table.lookup("wrong") is None


def test_clients_send_the_token(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "tuner_client-test-token"
    tokens = yaml.safe_dump(
        [{"sha256": hashlib.sha256(token.encode()).hexdigest(), "namespace": "default", "role": "editor"}]
    )
    server = server_factory(env={"TUNER_SERVER_TOKENS": tokens})
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(
        yaml.safe_dump(trial_experiment("from-cli", "print('loss=1')", max_trials=1, parallel=1))
    )
    monkeypatch.delenv("TUNER_TOKEN", raising=False)
    anonymous = _tuner("submit", str(experiment), "--server", server.url)
    assert anonymous.returncode == 2 and "TUNER_TOKEN" in anonymous.stderr
    done = _tuner("submit", str(experiment), "--server", server.url, env={"TUNER_TOKEN": token})
    assert done.returncode == 0, done.stderr
    with Client(host=server.url, token=token) as client:
        assert client.get_experiment("from-cli")["metadata"]["name"] == "from-cli"
    # every --server command takes --token as well as TUNER_TOKEN
    for command in (
        ["experiments", "list"],
        ["experiments", "show", "from-cli"],
        ["trials", "list", "from-cli"],
        ["pipelines", "runs", "list"],
    ):
        done = _tuner(*command, "--server", server.url, "--token", token)
        assert done.returncode == 0, (command, done.stderr)
        assert "from-cli" in done.stdout or command[0] == "pipelines", (command, done.stdout)
    refused = _tuner("experiments", "show", "from-cli", "--server", server.url)
    assert refused.returncode != 0 and "TUNER_TOKEN" in refused.stderr
    with pytest.raises(TunerError, match="TUNER_TOKEN"), Client(host=server.url) as client:
        client.get_experiment("from-cli")
    monkeypatch.setenv("TUNER_TOKEN", token)
    with Client(host=server.url) as client:
        assert [e["metadata"]["name"] for e in client.list_experiments()] == ["from-cli"]
    assert httpx.get(f"{server.url}/api/v1/experiments").status_code == 401


def test_insecure_no_auth_serves_every_address_open_with_a_warning(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(args=["--host", "0.0.0.0", "--insecure-no-auth"])
    assert httpx.get(f"{server.url}/api/v1/experiments").status_code == 200  # open, as asked
    assert "warning: listening on 0.0.0.0 without authentication" in server.log.read_text()
