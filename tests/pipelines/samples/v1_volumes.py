"""KFP v1 volume pattern: a VolumeOp creates a claim, a first ContainerOp writes to it, the next ones
mount the same volume (through `.pvolume`, so they also wait for the writer) at other paths and read what
the earlier steps wrote; one step mounts an existing claim by name."""

from pipelines.kfp import dsl


@dsl.pipeline(name="Volume sequential", description="Steps sharing a volume.")
def volume_sequential(size: str = "1Gi"):
    vop = dsl.VolumeOp(
        name="create-volume", resource_name="shared-data", size=size, modes=dsl.VOLUME_MODE_RWO
    )
    write = dsl.ContainerOp(
        name="write",
        image="library/bash:4.4.23",
        command=["sh", "-c"],
        arguments=["echo first > /data/file1"],
        pvolumes={"/data": vop.volume},
    )
    append = dsl.ContainerOp(
        name="append",
        image="library/bash:4.4.23",
        command=["sh", "-c"],
        arguments=["cat /mnt/file1 && echo second > /mnt/file2"],
        pvolumes={"/mnt": write.pvolume},
    )
    dsl.ContainerOp(
        name="read",
        image="library/bash:4.4.23",
        command=["sh", "-c"],
        arguments=["cat /mnt2/file1 /mnt2/file2"],
        pvolumes={"/mnt2": append.pvolume},
    )
    dsl.ContainerOp(
        name="existing",
        image="library/bash:4.4.23",
        command=["sh", "-c"],
        arguments=["echo kept >> /cache/log; cat /cache/log"],
    ).add_pvolumes({"/cache": dsl.PipelineVolume(pvc="long-lived-cache")})
