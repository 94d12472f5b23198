"""A pydantic model's JSON schema rewritten as a Kubernetes *structural* OpenAPI v3 schema.

The API server accepts a CustomResourceDefinition's schema only in the structural form: every node has a
`type` (or says it holds anything), no `$ref`, no union of different types, no `null` alternative (the
server drops a null it is not told to keep, and the models read a missing field as None, so both agree),
`x-kubernetes-preserve-unknown-fields` instead of `additionalProperties: true`.
`structural` does that rewrite for the shapes the spec models use; a shape it cannot express is an error
naming the field, fixed by an override (`overrides`), never silently widened. Pure data in, data out.

The models' docstrings are not carried over: they speak of tuner's loader (unknown fields refused, unquoted
numbers accepted), which is not what the API server does with the same schema (it prunes unknown fields
and wants text where Katib's API has text).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Path = tuple[str, ...]
"""A field's place in the schema: property names, and "[]" for a list's items (`spec.parameters[]`)."""

PRESERVE = "x-kubernetes-preserve-unknown-fields"
INT_OR_STRING = "x-kubernetes-int-or-string"


class SchemaShapeError(ValueError):
    """The model has a field the structural form cannot express and no override says how."""


def format_path(path: Path) -> str:
    """`("spec", "parameters", "[]", "name")` -> `spec.parameters[].name`."""
    return ".".join(path).replace(".[]", "[]")


def structural(
    schema: Mapping[str, Any],
    *,
    overrides: Mapping[Path, Mapping[str, Any]] | None = None,
    extra: Mapping[Path, Mapping[str, Any]] | None = None,
    replaced: Mapping[Path, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The structural schema of a model's JSON schema (`Model.model_json_schema(by_alias=True)`).

    `replaced`: paths whose schema is given whole (e.g. `metadata`, which the API server owns).
    `overrides`: paths whose own union or shape is given (e.g. text-only list entries); their keys replace
    the generated ones. `extra`: keys added to the generated node (defaults, minimums). Every path of the
    three must exist in the model, so that a renamed field cannot leave a rule behind unnoticed.
    """
    converter = _Converter(schema.get("$defs", {}), overrides or {}, extra or {}, replaced or {})
    result = converter.node(schema, ())
    unused = (set(converter.overrides) | set(converter.extra) | set(converter.replaced)) - converter.seen
    if unused:
        names = ", ".join(sorted(format_path(p) for p in unused))
        raise SchemaShapeError(f"no such field in the model: {names}")
    return result


class _Converter:
    def __init__(
        self,
        defs: Mapping[str, Any],
        overrides: Mapping[Path, Mapping[str, Any]],
        extra: Mapping[Path, Mapping[str, Any]],
        replaced: Mapping[Path, Mapping[str, Any]],
    ) -> None:
        self.defs = defs
        self.overrides = overrides
        self.extra = extra
        self.replaced = replaced
        self.seen: set[Path] = set()

    def node(self, schema: Mapping[str, Any], path: Path) -> dict[str, Any]:
        if path in self.replaced:
            self.seen.add(path)
            return dict(self.replaced[path])
        schema = self._resolve(schema)
        if path in self.overrides:
            self.seen.add(path)
            out = dict(self.overrides[path])
        else:
            out = self._shape(schema, path)
        if path in self.extra:
            self.seen.add(path)
            out.update(self.extra[path])
        return out

    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow `$ref`s and drop the `null` alternative of an optional field."""
        while True:
            if "$ref" in schema:
                name = schema["$ref"].rsplit("/", 1)[-1]
                schema = {**self.defs[name], **{k: v for k, v in schema.items() if k != "$ref"}}
                continue
            options = schema.get("anyOf")
            if options is not None:
                rest = [o for o in options if o.get("type") != "null"]
                if len(rest) == 1:
                    schema = rest[0]
                    continue
            return schema

    def _shape(self, schema: Mapping[str, Any], path: Path) -> dict[str, Any]:
        options = schema.get("anyOf")
        if options is not None:
            kinds = {self._resolve(o).get("type") for o in options} - {"null"}
            if kinds == {"integer", "string"}:
                return {INT_OR_STRING: True}
            raise SchemaShapeError(
                f"{format_path(path)}: a union of {sorted(str(k) for k in kinds)} has no structural form; "
                "add an override for it"
            )
        kind = schema.get("type")
        if kind == "object":
            return self._object(schema, path)
        if kind == "array":
            return {"type": "array", "items": self.node(schema.get("items", {}), (*path, "[]"))}
        if kind in ("string", "integer", "number", "boolean"):
            out: dict[str, Any] = {"type": kind}
            if kind == "integer":
                out["format"] = "int32"  # Katib's counts are int32
            if "enum" in schema:
                out["enum"] = list(schema["enum"])
            if schema.get("format") == "date-time":
                out["format"] = "date-time"
            return out
        if not schema or kind is None:
            return {PRESERVE: True}  # typing.Any: any value
        raise SchemaShapeError(f"{format_path(path)}: type {kind!r} has no structural form")

    def _object(self, schema: Mapping[str, Any], path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "object"}
        properties = schema.get("properties")
        more = schema.get("additionalProperties")
        if properties:
            out["properties"] = {name: self.node(sub, (*path, name)) for name, sub in properties.items()}
            if schema.get("required"):
                out["required"] = list(schema["required"])
            if more is True:
                out[PRESERVE] = True  # a server-written part: fields a newer version adds are kept
        elif isinstance(more, Mapping):
            out["additionalProperties"] = self.node(more, (*path, "{}"))
        else:
            out[PRESERVE] = True  # a free-form object (a workload, a container)
        return out
