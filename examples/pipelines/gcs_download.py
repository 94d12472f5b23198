"""Download from Google Cloud Storage with `gsutil`, as the download steps of Kubeflow's samples do, then
count the words; an exit task reports what happened.

Locally a container step runs its command with this machine's programs (the image is only recorded):
* without `gsutil` installed the step fails at once, naming the missing program;
* with `gsutil` but no network it would wait for ever, so the step has a timeout (`set_timeout`), and the
  exit task prints why the download did not finish.
On Kubernetes (`tuner pipelines compile --target argo`) the step runs in its image unchanged.

    tuner pipelines run examples/pipelines/gcs_download.py
"""

import os

from pipelines.kfp import components, dsl

HERE = os.path.dirname(os.path.abspath(__file__))
DOWNLOAD_TIMEOUT_SECONDS = 60

download_op = components.load_component_from_file(os.path.join(HERE, "components", "gcs_download.yml"))


@dsl.component
def count_words(text: str) -> int:
    return len(text.split())


@dsl.component
def report(url: str, status: dsl.PipelineTaskFinalStatus):
    if status.state == "SUCCEEDED":
        print(f"downloaded {url}")
    else:
        print(
            f"could not download {url} ({status.error_message}); gsutil needs to be installed and to reach "
            "storage.googleapis.com"
        )


@dsl.pipeline(name="gcs-download", description="Download a text with gsutil and count its words.")
def gcs_download(url: str = "gs://ml-pipeline-playground/shakespeare1.txt"):
    with dsl.ExitHandler(report(url=url)):
        data = download_op(url=url).set_timeout(DOWNLOAD_TIMEOUT_SECONDS)
        count_words(text=data.outputs["data"])
