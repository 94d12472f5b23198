"""Writing and reading pipeline packages: a `.yaml` file, or a `.zip` / `.tar.gz` holding `pipeline.yaml`
(the shapes KFP used).

Archives are byte-for-byte reproducible: fixed timestamps, fixed permissions, no user names. Reading checks
the schema version and the references, so a hand-edited package fails with the same messages as a
pipeline function would.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pipelines.compiler.check import check_spec
from pipelines.compiler.ir import SCHEMA_VERSION, PipelineSpec, dump
from tuner.errors import Problem, SpecError

ARCHIVE_MEMBER = "pipeline.yaml"
PACKAGE_SUFFIXES = (".yaml", ".yml", ".json", ".zip", ".tar.gz", ".tgz")


class _Dumper(yaml.SafeDumper):
    """Block style; multi-line strings (function sources) as literal blocks so they stay readable."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and all(line == line.rstrip() for line in value.splitlines()) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def to_yaml(document: Any) -> str:
    """YAML text of a document, in insertion order, deterministic."""
    return yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=110
    )


def spec_to_yaml(spec: PipelineSpec) -> str:
    """The IR as YAML text."""
    return to_yaml(dump(spec))


def package_kind(path: str | Path) -> str:
    """ "yaml", "zip" or "tar" from the file name.

    Raises:
        SpecError: the suffix is none of .yaml, .yml, .json, .zip, .tar.gz, .tgz.
    """
    name = str(path).lower()
    if name.endswith((".yaml", ".yml", ".json")):
        return "yaml"
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tar.gz", ".tgz")):
        return "tar"
    raise SpecError(
        [Problem("package", f"cannot tell the package format of {str(path)!r}; use .yaml, .zip or .tar.gz")]
    )


def write_text_package(text: str, path: str | Path) -> Path:
    """Write YAML text as `path`: plain, or as `pipeline.yaml` inside a reproducible zip or tar.gz."""
    target = Path(path)
    kind = package_kind(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    if target.name.lower().endswith(".json"):  # kfp.v2-era code writes `pipeline.json`: give it JSON
        import json

        data = (json.dumps(yaml.safe_load(text), indent=2, ensure_ascii=False) + "\n").encode()
    if kind == "yaml":
        payload = data
    elif kind == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            info = zipfile.ZipInfo(ARCHIVE_MEMBER, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
        payload = buffer.getvalue()
    else:
        tar_buffer = io.BytesIO()
        with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
            member = tarfile.TarInfo(ARCHIVE_MEMBER)
            member.size, member.mtime, member.mode = len(data), 0, 0o644
            archive.addfile(member, io.BytesIO(data))
        payload = gzip.compress(tar_buffer.getvalue(), mtime=0)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(payload)
    partial.replace(target)  # never leave a half-written package behind
    return target


def write_package(spec: PipelineSpec, path: str | Path) -> Path:
    """Write the IR as a package at `path` (format from the suffix)."""
    return write_text_package(spec_to_yaml(spec), path)


def read_package_text(path: str | Path) -> str:
    """The YAML text inside a package."""
    source = Path(path)
    kind = package_kind(source)
    try:
        if kind == "yaml":
            return source.read_text()
        if kind == "zip":
            with zipfile.ZipFile(source) as archive:
                return archive.read(ARCHIVE_MEMBER).decode()
        with tarfile.open(source, mode="r:gz") as archive:
            member = archive.extractfile(ARCHIVE_MEMBER)
            if member is None:
                raise KeyError(ARCHIVE_MEMBER)
            return member.read().decode()
    except KeyError:
        raise SpecError(
            [Problem("package", f"{ARCHIVE_MEMBER} is missing from the archive")], str(path)
        ) from None
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise SpecError([Problem("package", f"cannot read the package: {exc}")], str(path)) from None


def spec_from_document(document: Any, source: str) -> PipelineSpec:
    """Validate a parsed document as the IR and check its references."""
    if not isinstance(document, dict):
        raise SpecError([Problem("", "the package is not a YAML mapping")], source)
    version = document.get("schemaVersion")
    if version != SCHEMA_VERSION:
        hint = (
            " (an Argo Workflow cannot be run back; compile with --target ir)"
            if document.get("kind") == "Workflow"
            else ""
        )
        raise SpecError(
            [Problem("schemaVersion", f"expected {SCHEMA_VERSION!r}, got {version!r}{hint}")], source
        )
    try:
        spec = PipelineSpec.model_validate(document)
    except ValidationError as exc:
        problems = [
            Problem(".".join(str(p) for p in err["loc"]), err["msg"]) for err in exc.errors(include_url=False)
        ]
        raise SpecError(problems, source) from None
    check_spec(spec, source)
    return spec


def load_package(path: str | Path) -> PipelineSpec:
    """Read, validate and check a package written by `write_package` (or by hand)."""
    text = read_package_text(path)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError([Problem("", f"not valid YAML: {exc}")], str(path)) from None
    return spec_from_document(document, str(path))
