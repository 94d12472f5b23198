"""Model references: `models:/NAME/3`, `models:/NAME@alias`, and the short forms `NAME/3`, `NAME@alias`.

>>> parse_model_ref("models:/quickstart@production")
ModelRef(name='quickstart', version=None, alias='production')
>>> parse_model_ref("quickstart/3").uri
'models:/quickstart/3'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tuner.errors import StoreValueError

_NAME = r"[A-Za-z0-9][\w.\-]*"
_REF = re.compile(rf"^(?:models:/)?(?P<name>{_NAME})(?:/(?P<version>\d+)|@(?P<alias>[\w\-]+))?$")


@dataclass(frozen=True)
class ModelRef:
    """A registered model and, at most one of, a version number or an alias."""

    name: str
    version: int | None = None
    alias: str | None = None

    @property
    def uri(self) -> str:
        if self.version is not None:
            return f"models:/{self.name}/{self.version}"
        if self.alias is not None:
            return f"models:/{self.name}@{self.alias}"
        return f"models:/{self.name}"

    def __str__(self) -> str:
        return self.uri


def parse_model_ref(text: str) -> ModelRef:
    """Parse a model URI or short form.

    Raises:
        StoreValueError: the text is not of one of the accepted forms (the message shows them).
    """
    match = _REF.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise StoreValueError(
            f"model reference {text!r} is not valid: write NAME, NAME/VERSION or NAME@ALIAS "
            "(optionally prefixed with models:/), e.g. models:/quickstart@production"
        )
    version = match.group("version")
    return ModelRef(match.group("name"), int(version) if version else None, match.group("alias"))
