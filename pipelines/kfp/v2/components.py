"""`kfp.v2.components`: loading components from YAML, and the file-passing annotations."""

from pipelines.kfp.components import *  # noqa: F403
from pipelines.kfp.components import __all__ as __all__
