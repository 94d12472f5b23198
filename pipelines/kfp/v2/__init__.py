"""`kfp.v2`: the namespace KFP 1.8's v2-compatible code imports (`from kfp.v2 import dsl, compiler`).

    from kfp.v2 import dsl, compiler        ->  from pipelines.kfp.v2 import dsl, compiler
    from kfp.v2.dsl import component, Output ->  from pipelines.kfp.v2.dsl import component, Output

The names are the same objects as in `pipelines.kfp`: one DSL, one compiler, one runner.
"""

from pipelines.kfp.v2 import compiler, components, dsl

__all__ = ["compiler", "components", "dsl"]
