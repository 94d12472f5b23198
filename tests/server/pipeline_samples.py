"""Pipelines the server tests run: small Python components that sleep as long as asked and append their
name to a ledger file when they finish, so a test can count how often each step ran to its end."""

from __future__ import annotations

from pathlib import Path

from pipelines.kfp import compiler, dsl
from pipelines.kfp.components import InputPath, OutputPath, create_component_from_func


@create_component_from_func
def make_data(size: int, seconds: float, ledger: str, data_path: OutputPath("bin")):  # type: ignore[no-untyped-def,valid-type]
    import time

    print("making", size, "bytes", flush=True)
    time.sleep(seconds)
    with open(data_path, "wb") as handle:
        handle.write(bytes(i % 251 for i in range(size)))
    with open(ledger, "a") as handle:
        handle.write("make-data\n")


@create_component_from_func
def total(data_path: InputPath("bin"), seconds: float, ledger: str) -> int:  # type: ignore[no-untyped-def,valid-type]
    import time

    with open(data_path, "rb") as handle:
        value = sum(handle.read())
    print("total", value, flush=True)  # printed first: output after a server's death has no reader
    time.sleep(seconds)
    with open(ledger, "a") as handle:
        handle.write("total\n")
    return value


@dsl.pipeline(name="bytes-total", description="Write some bytes, then add them up.")
def bytes_total(size: int = 1000, seconds: float = 0.0, ledger: str = "/dev/null"):  # type: ignore[no-untyped-def]
    data = make_data(size, seconds, ledger)
    total(data.outputs["data"], seconds, ledger)


def expected_total(size: int) -> int:
    return sum(i % 251 for i in range(size))


def compiled(folder: Path) -> Path:
    """The compiled package of `bytes_total`."""
    path = folder / "bytes-total.yaml"
    compiler.Compiler().compile(bytes_total, str(path))
    return path


def ledger_counts(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    if path.exists():
        for line in path.read_text().split():
            counts[line] = counts.get(line, 0) + 1
    return counts
