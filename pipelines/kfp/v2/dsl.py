"""`kfp.v2.dsl`: the v2-style DSL names (`component`, `pipeline`, `Input`, `Output`, artifact classes,
`Condition`, `ExitHandler`, `ParallelFor`, `importer`, `PipelineTaskFinalStatus`, ...), the same objects as
`pipelines.kfp.dsl`."""

from pipelines.dsl import *  # noqa: F403
from pipelines.dsl import __all__ as __all__
