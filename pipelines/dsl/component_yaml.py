"""Loading components from YAML, in the three shapes a KFP user meets: KFP v1 `component.yaml`
(`name/inputs/outputs/implementation.container` with `inputValue`/`inputPath`/`outputPath`, `if` and
`concat`), a KFP v2 compiled component (`components` + `deploymentSpec.executors`, container or
lightweight Python), and this project's own format (what `output_component_file` writes).

`load_component_from_url` reads `file://` URLs and local paths, and `http(s)` URLs where the network
allows. Every problem is a `SpecError` naming the field and what to write instead.
"""

from __future__ import annotations

import ast
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pipelines.compiler.ir import ComponentSpec, InputSpec, OutputSpec, PythonImplementation
from pipelines.dsl.components import Component, TemplateComponent
from pipelines.dsl.placeholders import (
    ConcatPlaceholder,
    ContainerTemplate,
    IfPresentPlaceholder,
    InputPathPlaceholder,
    InputValuePlaceholder,
    OutputPathPlaceholder,
)
from pipelines.dsl.types import ARTIFACT_CLASSES, type_name
from tuner.errors import Problem, SpecError


def python_name(name: str) -> str:
    """KFP v1's Python name of an input or output: `Input 1` -> `input_1`."""
    cleaned = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not cleaned:
        return "_"
    return f"_{cleaned}" if cleaned[0].isdigit() else cleaned


def _fail(source: str, path: str, message: str) -> SpecError:
    return SpecError([Problem(path, message)], source)


# --- KFP v1 component.yaml ------------------------------------------------------------------------------


class _V1:
    def __init__(self, document: dict[str, Any], source: str) -> None:
        self.doc = document
        self.source = source
        self.input_names: dict[str, str] = {}
        self.output_names: dict[str, str] = {}

    def fail(self, path: str, message: str) -> SpecError:
        return _fail(self.source, path, message)

    def interface(self) -> tuple[dict[str, InputSpec], dict[str, OutputSpec]]:
        inputs: dict[str, InputSpec] = {}
        for i, entry in enumerate(self.doc.get("inputs") or []):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise self.fail(f"inputs[{i}]", "each input needs a name: - {name: x, type: String}")
            key = python_name(entry["name"])
            self.input_names[entry["name"]] = key
            has_default = "default" in entry
            optional = bool(entry.get("optional")) or has_default
            inputs[key] = InputSpec(
                type=type_name(entry.get("type")) if isinstance(entry.get("type"), str) else None,
                optional=optional,
                default=entry.get("default"),
            )
        outputs: dict[str, OutputSpec] = {}
        for i, entry in enumerate(self.doc.get("outputs") or []):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise self.fail(f"outputs[{i}]", "each output needs a name: - {name: y, type: String}")
            key = python_name(entry["name"])
            self.output_names[entry["name"]] = key
            kind = entry.get("type")
            outputs[key] = OutputSpec(
                type=type_name(kind) if isinstance(kind, str) else None,
                passing="path",
                artifact=kind if isinstance(kind, str) and type_name(kind) is None else None,
            )
        return inputs, outputs

    def _input(self, name: Any, path: str) -> str:
        if name not in self.input_names:
            raise self.fail(path, f"unknown input {name!r}; inputs: {', '.join(self.input_names) or 'none'}")
        return self.input_names[name]

    def item(self, raw: Any, path: str) -> Any:
        """One command/args item as a placeholder tree."""
        if isinstance(raw, (str, int, float, bool)):
            return raw if isinstance(raw, str) else json.dumps(raw)
        if not isinstance(raw, dict) or len(raw) != 1:
            raise self.fail(
                path, f"expected a string or a one-key placeholder such as {{inputValue: x}}, got {raw!r}"
            )
        ((kind, value),) = raw.items()
        if kind == "inputValue":
            return InputValuePlaceholder(self._input(value, path))
        if kind == "inputPath":
            return InputPathPlaceholder(self._input(value, path))
        if kind == "outputPath":
            if value not in self.output_names:
                raise self.fail(
                    path, f"unknown output {value!r}; outputs: {', '.join(self.output_names) or 'none'}"
                )
            return OutputPathPlaceholder(self.output_names[value])
        if kind == "concat":
            if not isinstance(value, list):
                raise self.fail(path, "concat takes a list of items")
            return ConcatPlaceholder([self.item(v, f"{path}.concat[{i}]") for i, v in enumerate(value)])
        if kind == "if":
            return self._if(value, path)
        raise self.fail(
            path,
            f"placeholder {kind!r} is not supported; use inputValue, inputPath, outputPath, concat or if",
        )

    def _if(self, value: Any, path: str) -> Any:
        if not isinstance(value, dict) or "cond" not in value or "then" not in value:
            raise self.fail(path, "if takes {cond: ..., then: [...], else: [...]}")
        then = self.items(value["then"], f"{path}.then")
        otherwise = self.items(value["else"], f"{path}.else") if value.get("else") is not None else None
        cond = value["cond"]
        if isinstance(cond, dict) and set(cond) == {"isPresent"}:
            return IfPresentPlaceholder(self._input(cond["isPresent"], f"{path}.cond"), then, otherwise)
        if isinstance(cond, dict) and set(cond) == {"inputValue"}:
            name = self._input(cond["inputValue"], f"{path}.cond")
            return IfPresentPlaceholder(name, then, otherwise, on_value=True)
        if isinstance(cond, (bool, str)):
            chosen = then if str(cond).strip().lower() == "true" else otherwise
            return ConcatPlaceholder([]) if chosen is None else _Spliced(chosen)
        raise self.fail(
            f"{path}.cond", f"expected {{isPresent: x}}, {{inputValue: x}} or true/false, got {cond!r}"
        )

    def items(self, raw: Any, path: str) -> list[Any]:
        listed = raw if isinstance(raw, list) else [raw]
        return [self.item(v, f"{path}[{i}]") for i, v in enumerate(listed)]

    def template(self) -> ContainerTemplate:
        implementation = self.doc.get("implementation")
        if not isinstance(implementation, dict) or "container" not in implementation:
            if isinstance(implementation, dict) and "graph" in implementation:
                raise self.fail(
                    "implementation.graph",
                    "graph components are not supported; write the graph as a @dsl.pipeline and use it as a component",
                )
            raise self.fail("implementation", "expected implementation.container with image and command")
        container = implementation["container"]
        if not isinstance(container, dict) or not isinstance(container.get("image"), str):
            raise self.fail("implementation.container.image", "the container needs an image")
        inputs, outputs = self.interface()
        command = _splice(self.items(container.get("command") or [], "implementation.container.command"))
        args = _splice(self.items(container.get("args") or [], "implementation.container.args"))
        env = container.get("env") or {}
        return ContainerTemplate(
            name=str(self.doc.get("name") or "component"),
            image=container["image"],
            command=command,
            args=args,
            inputs=inputs,
            outputs=outputs,
            description=self.doc.get("description"),
            env={str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {},
        )


class _Spliced(list[Any]):
    """Items of a statically decided `if`, spliced into the surrounding list."""


def _splice(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        out.extend(item) if isinstance(item, _Spliced) else out.append(item)
    return out


# --- KFP v2 compiled component ---------------------------------------------------------------------------

_V2_TYPES = {
    "STRING": "str",
    "NUMBER_INTEGER": "int",
    "INT": "int",
    "NUMBER_DOUBLE": "float",
    "DOUBLE": "float",
    "BOOLEAN": "bool",
    "LIST": "list",
    "STRUCT": "dict",
}
_V2_TOKEN = re.compile(
    r"\{\{\$\.(?P<side>inputs|outputs)\.(?P<kind>parameters|artifacts)\['(?P<name>[^']+)'\]"
    r"(?:\.(?P<attr>path|output_file|uri))?\}\}"
)


def _v2_interface(
    component: dict[str, Any], source: str, annotations: dict[str, str]
) -> tuple[dict[str, InputSpec], dict[str, OutputSpec]]:
    inputs: dict[str, InputSpec] = {}
    definitions = component.get("inputDefinitions") or {}
    for name, entry in (definitions.get("parameters") or {}).items():
        kind = entry.get("parameterType") or entry.get("type")
        optional = bool(entry.get("isOptional")) or "defaultValue" in entry
        inputs[name] = InputSpec(
            type=_V2_TYPES.get(kind), optional=optional, default=entry.get("defaultValue")
        )
    for name, entry in (definitions.get("artifacts") or {}).items():
        title = ((entry.get("artifactType") or {}).get("schemaTitle") or "system.Artifact").split(".")[-1]
        passing = "path" if "InputPath" in annotations.get(name, "") else "artifact"
        inputs[name] = InputSpec(
            passing=passing,  # type: ignore[arg-type]
            artifact=title if title in ARTIFACT_CLASSES else "Artifact",
            optional=bool(entry.get("isOptional")),
        )
    outputs: dict[str, OutputSpec] = {}
    definitions = component.get("outputDefinitions") or {}
    for name, entry in (definitions.get("parameters") or {}).items():
        kind = _V2_TYPES.get(entry.get("parameterType") or entry.get("type"))
        passing = "path" if name in annotations or not annotations else "value"
        outputs[name] = OutputSpec(type=kind, passing=passing)  # type: ignore[arg-type]
    for name, entry in (definitions.get("artifacts") or {}).items():
        title = ((entry.get("artifactType") or {}).get("schemaTitle") or "system.Artifact").split(".")[-1]
        passing = "path" if "OutputPath" in annotations.get(name, "") else "artifact"
        outputs[name] = OutputSpec(
            passing=passing,  # type: ignore[arg-type]
            artifact=title if title in ARTIFACT_CLASSES else "Artifact",
        )
    return inputs, outputs


def _v2_item(raw: Any, source: str, path: str) -> Any:
    """A v2 command item: a string with `{{$.inputs...}}` tokens, or a JSON IfPresent/Concat placeholder."""
    if not isinstance(raw, str):
        return json.dumps(raw)
    text = raw.strip()
    if text.startswith(('{"IfPresent"', '{"Concat"')):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict) and "Concat" in parsed:
            return ConcatPlaceholder([_v2_item(v, source, path) for v in parsed["Concat"]])
        if isinstance(parsed, dict) and "IfPresent" in parsed:
            body = parsed["IfPresent"]
            then = [_v2_item(v, source, path) for v in _listed(body.get("Then"))]
            otherwise = (
                [_v2_item(v, source, path) for v in _listed(body.get("Else"))] if "Else" in body else None
            )
            return IfPresentPlaceholder(str(body.get("InputName")), then, otherwise)
    parts: list[Any] = []
    last = 0
    for match in _V2_TOKEN.finditer(raw):
        parts.append(raw[last : match.start()])
        name, side, kind, attr = match["name"], match["side"], match["kind"], match["attr"]
        if attr == "uri":
            raise _fail(source, path, f"{match.group(0)}: artifact URIs are not supported; use .path")
        if side == "inputs":
            parts.append(InputPathPlaceholder(name) if kind == "artifacts" else InputValuePlaceholder(name))
        else:
            parts.append(OutputPathPlaceholder(name))
        last = match.end()
    if "{{$" in raw[last:] or any("{{$" in p for p in parts if isinstance(p, str)):
        raise _fail(source, path, f"unsupported placeholder in {raw!r}")
    parts.append(raw[last:])
    parts = [p for p in parts if p != ""]
    if len(parts) == 1:
        return parts[0]
    return ConcatPlaceholder(parts)


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _python_from_v2(
    container: dict[str, Any], component: dict[str, Any], name: str, source: str
) -> Component:
    """A lightweight Python component compiled by KFP v2: the function source is in the command."""
    args = [str(a) for a in container.get("args") or []]
    try:
        function = args[args.index("--function_to_execute") + 1]
    except (ValueError, IndexError):
        raise _fail(source, "deploymentSpec", "a Python executor without --function_to_execute") from None
    code = next((c for c in container.get("command") or [] if f"def {function}(" in str(c)), None)
    if code is None:
        raise _fail(source, "deploymentSpec", f"the source of function {function!r} is not in the command")
    kept = [
        line
        for line in str(code).splitlines()
        if not re.match(r"\s*(import kfp\b|from kfp(\.| )|from typing import \*)", line)
    ]
    text = "\n".join(kept).strip() + "\n"
    annotations: dict[str, str] = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            for arg in node.args.args:
                annotations[arg.arg] = ast.unparse(arg.annotation) if arg.annotation else ""
    inputs, outputs = _v2_interface(component, source, annotations)
    for key, in_spec in inputs.items():
        if in_spec.passing == "value" and "PipelineTaskFinalStatus" in annotations.get(key, ""):
            inputs[key] = InputSpec(passing="finalStatus", optional=True)
    for key, out_spec in list(outputs.items()):
        if out_spec.passing == "path" and key not in annotations:
            outputs[key] = out_spec.model_copy(update={"passing": "value"})
    spec = ComponentSpec(
        name=name,
        inputs=inputs,
        outputs=outputs,
        python=PythonImplementation(
            function_name=function,
            source=text,
            base_image=container.get("image"),
            packages_to_install=_packages(container),
        ),
    )
    return Component(spec)


def _packages(container: dict[str, Any]) -> list[str]:
    """`packages_to_install` from the pip line KFP v2 writes into the command (kfp itself left out)."""
    for item in container.get("command") or []:
        match = re.search(r"pip install[^']*?'([^\n]*?)' &&", str(item))
        if match and "kfp" not in match.group(1):
            return re.findall(r"'([^']+)'", "'" + match.group(1) + "'")
    return []


def _v2_component(document: dict[str, Any], source: str) -> Component:
    components = document.get("components") or {}
    executors = (document.get("deploymentSpec") or {}).get("executors") or {}
    if len(components) != 1:
        raise _fail(
            source,
            "components",
            f"the file holds {len(components)} components (a compiled pipeline); load a single component's YAML",
        )
    ((key, component),) = components.items()
    executor = executors.get(component.get("executorLabel"))
    if not isinstance(executor, dict) or "container" not in executor:
        raise _fail(source, f"components.{key}.executorLabel", "no container executor for the component")
    container = executor["container"]
    name = (document.get("pipelineInfo") or {}).get("name") or key.removeprefix("comp-")
    if any("executor_main" in str(c) for c in container.get("command") or []):
        return _python_from_v2(container, component, name, source)
    inputs, outputs = _v2_interface(component, source, {})
    for key_, spec in outputs.items():
        outputs[key_] = spec.model_copy(update={"passing": "path"}) if spec.passing == "value" else spec
    template = ContainerTemplate(
        name=name,
        image=str(container.get("image")),
        command=[_v2_item(c, source, "command") for c in container.get("command") or []],
        args=[_v2_item(a, source, "args") for a in container.get("args") or []],
        inputs=inputs,
        outputs=outputs,
    )
    return TemplateComponent(template)


# --- entry points ----------------------------------------------------------------------------------------


def component_from_document(document: Any, source: str) -> Component:
    """A component from a parsed YAML document of any supported shape.

    Raises:
        SpecError: the document is none of them, or is malformed; the message names the field.
    """
    if not isinstance(document, dict):
        raise _fail(source, "", "a component file is a YAML mapping")
    if "implementation" in document:
        return TemplateComponent(_V1(document, source).template())
    if "deploymentSpec" in document or ("components" in document and "root" in document):
        return _v2_component(document, source)
    if "python" in document or "container" in document:
        try:
            return Component(ComponentSpec.model_validate(document))
        except ValidationError as exc:
            problems = [
                Problem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors(include_url=False)
            ]
            raise SpecError(problems, source) from None
    raise _fail(
        source,
        "",
        "not a component: expected KFP v1 component YAML (name, inputs, outputs, implementation.container), "
        "a KFP v2 compiled component (components, deploymentSpec) or a file written by output_component_file",
    )


def load_component_from_text(text: str) -> Component:
    """A component from YAML text (KFP v1, KFP v2, or this project's format)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail("component", "", f"not valid YAML: {exc}") from None
    return component_from_document(document, "component")


def load_component_from_file(filename: str | Path) -> Component:
    """A component from a YAML file."""
    path = Path(filename)
    try:
        text = path.read_text()
    except OSError as exc:
        raise _fail(str(filename), "file", f"cannot read it: {exc.strerror or exc}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(str(filename), "", f"not valid YAML: {exc}") from None
    return component_from_document(document, str(filename))


def load_component_from_url(url: str, auth: Any = None, timeout: float = 30.0) -> Component:
    """A component from a URL: `file://...` or a local path here, `http(s)://...` where reachable."""
    if url.startswith("file://"):
        return load_component_from_file(urllib.request.url2pathname(url[len("file://") :]))
    if "://" not in url:
        return load_component_from_file(url)
    if not url.startswith(("http://", "https://")):
        raise _fail(url, "url", "use an http(s):// or file:// URL, or a local path")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # the scheme is checked above
            text = response.read().decode()
    except OSError as exc:
        raise _fail(
            url,
            "url",
            f"cannot download it ({exc}); download the file and load it with load_component_from_file",
        ) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(url, "", f"not valid YAML: {exc}") from None
    return component_from_document(document, url)


def load_component(filename: str | None = None, url: str | None = None, text: str | None = None) -> Component:
    """KFP v1 `components.load_component(filename=... | url=... | text=...)`: exactly one of the three."""
    given = [k for k, v in (("filename", filename), ("url", url), ("text", text)) if v is not None]
    if len(given) != 1:
        raise TypeError(f"load_component takes exactly one of filename, url or text; got {given or 'none'}")
    if filename is not None:
        return load_component_from_file(filename)
    if url is not None:
        return load_component_from_url(url)
    assert text is not None
    return load_component_from_text(text)
