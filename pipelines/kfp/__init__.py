"""A KFP v1-compatible facade: code written for `kfp` 1.x runs with only its imports changed.

    import kfp                          ->  from pipelines import kfp
    from kfp import dsl                 ->  from pipelines.kfp import dsl
    from kfp.components import X        ->  from pipelines.kfp.components import X

`kfp.dsl`, `kfp.components`, `kfp.compiler`, `kfp.Client`, `kfp.LocalClient` and
`kfp.run_pipeline_func_locally` are here; `Client()` without a host runs pipelines with the local runner.
"""

from __future__ import annotations

from typing import Any

from pipelines.kfp import compiler, components, dsl, v2

__all__ = ["Client", "LocalClient", "compiler", "components", "dsl", "run_pipeline_func_locally", "v2"]


def __getattr__(name: str) -> Any:
    # The runner (and its imports) load only when a run is asked for, not when a pipeline is defined.
    if name in ("Client", "LocalClient", "run_pipeline_func_locally"):
        from pipelines.runner import client

        return getattr(client, name)
    raise AttributeError(f"module 'pipelines.kfp' has no attribute {name!r}")
