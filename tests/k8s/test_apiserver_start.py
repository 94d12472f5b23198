"""The test API server's start-up fails loudly and leaves nothing behind (tests/k8s/apiserver.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.k8s import apiserver


def no_folder(*args: object, **kwargs: object) -> str:
    raise AssertionError("no data folder may be made before the binaries are found")


def test_missing_binaries_name_the_build_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNER_KUBE_CACHE", str(tmp_path))
    monkeypatch.setattr(apiserver.tempfile, "mkdtemp", no_folder)
    with pytest.raises(
        apiserver.ApiServerError, match=r"kube-apiserver is missing: run `bash tests/k8s_env/build.sh`"
    ):
        apiserver.start()


def test_a_server_that_exits_is_reported_with_its_log_and_cleaned_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in kube-apiserver that exits at once (the real etcd runs): the error carries its output, etcd
    is stopped and the data folder deleted."""
    fake = tmp_path / "bin" / "kube-apiserver"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Error: unknown flag: --no-such-flag' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("TUNER_KUBE_CACHE", str(tmp_path))
    started: list[apiserver.ApiServer] = []
    original = apiserver._run_started

    def spy(server: apiserver.ApiServer, etcd: str, binary: Path) -> None:
        started.append(server)
        original(server, etcd, binary)

    monkeypatch.setattr(apiserver, "_run_started", spy)
    with pytest.raises(apiserver.ApiServerError, match=r"kube-apiserver exited \(3\):\nError: unknown flag"):
        apiserver.start()
    (server,) = started
    assert [p.poll() is not None for p in server.processes] == [True, True]  # etcd was stopped too
    assert not server.folder.exists()
