"""KFP v1 sidecar pattern: a step fetches from a server that a `dsl.Sidecar` runs beside it in the pod
(an echo server from its image's entrypoint, configured by args), and a second step prints what came
back; one more sidecar is added with `.add_sidecar` on an independent step."""

from pipelines.kfp import dsl


@dsl.pipeline(name="pipeline-with-sidecar", description="A step with an echo server beside it.")
def sidecar_pipeline(text: str = "hello"):
    echo = dsl.Sidecar(name="echo", image="hashicorp/http-echo:latest", args=['-text="hello world"'])
    download = dsl.ContainerOp(
        name="download",
        image="busybox:latest",
        command=["sh", "-c"],
        arguments=["sleep 10; wget localhost:5678 -O /tmp/results.txt"],
        sidecars=[echo],
        file_outputs={"downloaded": "/tmp/results.txt"},
    )
    dsl.ContainerOp(
        name="print",
        image="library/bash:4.4.23",
        command=["sh", "-c"],
        arguments=["echo %s" % download.output],
    )
    dsl.ContainerOp(
        name="independent", image="library/bash:4.4.23", command=["sh", "-c"], arguments=["echo %s" % text]
    ).add_sidecar(
        dsl.Sidecar(
            name="logger",
            image="busybox:latest",
            command=["sh", "-c", "tail -f /dev/null"],
            mirror_volume_mounts=True,
        )
    )
