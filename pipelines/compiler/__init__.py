"""Compiling pipelines: the IR (`ir`), its checks (`check`), packages (`package`) and the Argo target
(`argo`). `Compiler` is re-exported lazily so that `pipelines.compiler.ir` can be imported by the DSL
without importing the DSL back.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Compiler"]


def __getattr__(name: str) -> Any:
    if name == "Compiler":
        from pipelines.compiler.compiler import Compiler

        return Compiler
    raise AttributeError(name)
