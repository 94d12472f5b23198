"""`kfp.dsl`: the DSL names KFP v1 (and v2) code uses."""

from pipelines.dsl import *  # noqa: F403
from pipelines.dsl import __all__ as __all__
