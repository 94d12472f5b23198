"""KFP v2 `dsl.importer(artifact_uri=..., artifact_class=..., reimport=..., metadata=...)`: a task whose only
output, `artifact`, is an existing file or folder brought into the pipeline as an artifact.

It is an ordinary Python task (so it caches, records lineage and compiles for Argo like any other): it
copies a local path or `file://` URI, or downloads an `http(s)://` URL. Other schemes (`gs://`, `s3://`)
need their tools and credentials, which a local run does not have: the task fails saying so.
"""

from __future__ import annotations

from typing import Any

from pipelines.compiler.ir import ComponentSpec, InputSpec, OutputSpec, PythonImplementation
from pipelines.dsl.tasks import PipelineTask
from pipelines.dsl.types import Artifact, _artifact_class

_SOURCE = """def importer(uri: str, metadata: dict, artifact):
    import os
    import shutil
    import urllib.parse
    import urllib.request

    artifact.metadata.update(metadata or {})
    if uri.startswith(("http://", "https://")):
        urllib.request.urlretrieve(uri, artifact.path)
        return
    if uri.startswith("file://"):
        source = urllib.request.url2pathname(urllib.parse.urlparse(uri).path)
    elif "://" not in uri:
        source = uri
    else:
        raise SystemExit(
            f"importer: cannot fetch {uri} here: only local paths, file:// and http(s):// URLs are read "
            "on this machine; copy the object to a local path first"
        )
    if not os.path.exists(source):
        raise SystemExit(f"importer: {uri} does not exist")
    if os.path.isdir(source):
        shutil.copytree(source, artifact.path)
    else:
        shutil.copyfile(source, artifact.path)
"""


def importer(
    artifact_uri: Any,
    artifact_class: type[Artifact] = Artifact,
    reimport: bool = False,
    metadata: dict[str, Any] | None = None,
    **_ignored: Any,
) -> PipelineTask:
    """Import an existing artifact; `task.output` is it (a `artifact_class` artifact).

    `reimport=False` lets an unchanged import come from the cache (the default caching does that).
    """
    cls = _artifact_class(artifact_class)
    spec = ComponentSpec(
        name="importer",
        inputs={
            "uri": InputSpec(type="str"),
            "metadata": InputSpec(type="dict", optional=True, default={}),
        },
        outputs={"artifact": OutputSpec(passing="artifact", artifact=cls.__name__)},
        python=PythonImplementation(function_name="importer", source=_SOURCE),
    )
    task = PipelineTask(spec, {"uri": artifact_uri, "metadata": dict(metadata or {})})
    if reimport:
        task.set_caching_options(False)
    return task
