"""Loading and dumping Experiment documents: the one way in for files, text and dicts.

`load_experiment` reads a source, checks its shape, applies Katib's defaults and validates, raising
`SpecError` with every problem found. The CLI (`tuner validate`, `tuner run`), the REST server and the
Python API all come through here, so a spec means the same thing whichever door it used.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml

from tuner.errors import Problem, SpecError
from tuner.spec.config_map import TemplateNotFound, config_map_template
from tuner.spec.defaults import apply_defaults
from tuner.spec.documents import key_text, parse_documents
from tuner.spec.experiment import API_VERSIONS, Experiment
from tuner.spec.parameters import PYTHON_VALUES
from tuner.spec.paths import covers, document_order
from tuner.spec.structure import parse_model
from tuner.spec.validation import ExtraCheck, validate_experiment

Source = str | Path | Mapping[str, Any]
"""A file path (`Path`, or a `str` without a newline), YAML/JSON text, or an already parsed document."""


def load_experiment(
    source: Source,
    *,
    source_name: str | None = None,
    extra_checks: Sequence[ExtraCheck] = (),
    python_values: bool = False,
) -> Experiment:
    """The one Experiment in `source`, defaulted and validated.

    `python_values=True` for a document built in Python (`tuner.tune`): categorical choices keep their
    Python types (see `tuner.spec.parameters`); files and text always follow Katib (choices are text).

    Raises:
        SpecError: the source cannot be read, is not exactly one document, or the experiment is invalid;
            `problems` lists everything found and `source` names the input.
    """
    documents, name = read_documents(source, source_name)
    if len(documents) != 1:
        found = f"{len(documents)} documents" if documents else "no document"
        raise SpecError([Problem("", f"expected one Experiment document, found {found}")], name)
    experiment, problems = experiment_from_document(
        documents[0],
        extra_checks=extra_checks,
        template_dir=_folder(source),
        python_values=python_values and isinstance(source, Mapping),
    )
    if problems or experiment is None:
        raise SpecError(problems, name)
    return experiment


def load_experiments(
    source: Source, *, source_name: str | None = None, extra_checks: Sequence[ExtraCheck] = ()
) -> list[Experiment]:
    """Every Experiment of a (possibly multi-document) source, defaulted and validated.

    Problems of the second and later documents are prefixed with `[document N]`.

    Raises:
        SpecError: as `load_experiment`, for any of the documents.
    """
    documents, name = read_documents(source, source_name)
    if not documents:
        raise SpecError([Problem("", "expected at least one Experiment document, found none")], name)
    experiments: list[Experiment] = []
    problems: list[Problem] = []
    for number, document in enumerate(documents, start=1):
        experiment, found = experiment_from_document(
            document, extra_checks=extra_checks, template_dir=_folder(source)
        )
        if len(documents) > 1:
            found = [Problem(f"[document {number}] {p.path}".rstrip(), p.message) for p in found]
        problems += found
        if experiment is not None:
            experiments.append(experiment)
    if problems:
        raise SpecError(problems, name)
    return experiments


def read_documents(source: Source, source_name: str | None = None) -> tuple[list[Any], str]:
    """The parsed documents of `source` and the name to report it by.

    Raises:
        SpecError: the file cannot be read or the text is not valid YAML/JSON (with line and column).
    """
    if isinstance(source, Mapping):
        return [_plain(source)], source_name or "<dict>"
    if isinstance(source, Path) or _is_path(source):
        path = Path(source)
        name = source_name or str(source)
        text = _read_file(path, name)
    else:
        name, text = source_name or "<text>", str(source)
    documents, problems = parse_documents(text)
    if problems:
        raise SpecError(problems, name)
    return documents, name


def _is_path(source: Source) -> bool:
    return isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and not source.lstrip().startswith("{")
    )


def _folder(source: Source) -> Path | None:
    """The folder of a file source (where its ConfigMap manifests are looked for); None for text and dicts."""
    return Path(source).resolve().parent if not isinstance(source, Mapping) and _is_path(source) else None


def _read_file(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        reason = "no such file"
    except IsADirectoryError:
        reason = "it is a directory, not an experiment file"
    except PermissionError:
        reason = "permission denied"
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text (invalid byte at offset {exc.start})"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    raise SpecError([Problem("", f"cannot read: {reason}")], name)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key_text(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def experiment_from_document(
    document: Any,
    *,
    extra_checks: Sequence[ExtraCheck] = (),
    template_dir: Path | None = None,
    python_values: bool = False,
) -> tuple[Experiment | None, list[Problem]]:
    """One parsed document to a defaulted Experiment, and every problem found (empty if valid).

    With `template_dir`, a `trialTemplate.configMap` found there as a ConfigMap manifest is checked like an
    inline template; one that is not found is left to whoever runs the experiment (it lives in a cluster).
    """
    if not isinstance(document, dict):
        what = "a list" if isinstance(document, list) else f"the value {document!r}"
        return None, [
            Problem(
                "",
                f"expected an Experiment document (a mapping with apiVersion, kind, metadata and spec), got {what}",
            )
        ]
    problems = [
        Problem(key, f"required: {hint}")
        for key, hint in (("apiVersion", " or ".join(API_VERSIONS)), ("kind", "Experiment"))
        if key not in document
    ]
    context = {PYTHON_VALUES: True} if python_values else None
    experiment, shape_problems, reported = parse_model(Experiment, document, context)
    problems += shape_problems
    if experiment is None:
        return None, problems
    experiment = apply_defaults(experiment)
    reported += [p.path for p in problems]
    template = _readable_config_map(experiment, template_dir)
    problems += [
        p
        for p in validate_experiment(experiment, extra_checks=extra_checks, config_map_template=template)
        if not any(covers(path, p.path) for path in reported if path)
    ]
    problems.sort(key=lambda p: document_order(document, p.path))
    return experiment, problems


def _readable_config_map(experiment: Experiment, folder: Path | None) -> dict[str, Any] | None:
    if folder is None:
        return None
    try:
        return config_map_template(experiment, folder)
    except TemplateNotFound:
        return None


def dump_experiment(experiment: Experiment, fmt: Literal["yaml", "json"] = "yaml") -> str:
    """The document as YAML or JSON text (camelCase keys, no unset fields); `load_experiment` reads it back."""
    return dump_document(experiment.to_dict(), fmt)


def dump_document(document: Any, fmt: Literal["yaml", "json"] = "yaml") -> str:
    """Any plain document as YAML or JSON text, as tuner prints documents."""
    if fmt == "json":
        return json.dumps(document, indent=2) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(document, sort_keys=False, default_flow_style=False, allow_unicode=True)
    raise ValueError(f"fmt must be 'yaml' or 'json', got {fmt!r}")
