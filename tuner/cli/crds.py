"""`tuner crds print|apply`: the CustomResourceDefinitions for a cluster, from the installed package.

Who needs it: a user who installed tuner with pip and has no checkout of the repository (whose `crds/` folder
`kubectl apply -k` reads). The documents are generated from the spec models by `tuner.spec.crd`, the same
function that writes `crds/`, so both are always equal.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
import yaml

from tuner.cli._common import ExitCode, fail, new_typer, stderr_console

FIELD_MANAGER = "tuner-crds"
ESTABLISHED_WAIT_S = 60.0


def register(app: typer.Typer) -> None:
    group = new_typer(
        help="The Experiment, Trial and Suggestion CustomResourceDefinitions (tuner.dev/v1beta1)."
    )
    group.command("print")(print_crds)
    group.command("apply")(apply_crds)
    app.add_typer(group, name="crds")


def definitions() -> list[dict[str, Any]]:
    from tuner.spec.crd import RESOURCES, definition

    return [definition(resource) for resource in RESOURCES]


def print_crds() -> None:
    """Print the CRDs as YAML documents, e.g. `tuner crds print | kubectl apply -f -`."""
    typer.echo(yaml.safe_dump_all(definitions(), sort_keys=False, width=110), nl=False)


def apply_crds(
    kubeconfig: Path | None = typer.Option(
        None, "--kubeconfig", help="The kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).",
        show_default=False,
    ),
    context: str | None = typer.Option(None, "--context", help="The kubeconfig context to use.", show_default=False),
) -> None:  # fmt: skip
    """Install or update the CRDs on the cluster (server-side apply) and wait until the server serves them.

    Needs the `cluster` extra (the Kubernetes client): pip install 'tuner-hpo[cluster]'."""
    try:
        import urllib3
        from kubernetes import client, config
        from kubernetes.client.rest import ApiException
        from kubernetes.config.config_exception import ConfigException
    except ImportError:
        fail(
            "tuner crds apply needs the Kubernetes client: pip install 'tuner-hpo[cluster]'", ExitCode.INVALID
        )
    if kubeconfig is not None and not kubeconfig.is_file():
        fail(f"--kubeconfig {kubeconfig}: no such file", ExitCode.INVALID)
    try:
        api = config.new_client_from_config(
            config_file=str(kubeconfig) if kubeconfig else None, context=context
        )
    except ConfigException as exc:
        fail(f"cannot use the kubeconfig: {exc} (pass --kubeconfig FILE or --context NAME)", ExitCode.INVALID)
    extensions = client.ApiextensionsV1Api(api)
    console = stderr_console()
    try:
        for document in definitions():
            name = document["metadata"]["name"]
            extensions.patch_custom_resource_definition(
                name, document, field_manager=FIELD_MANAGER, force=True,
                _content_type="application/apply-patch+yaml",
            )  # fmt: skip
            _wait_established(extensions, name)
            console.print(f"customresourcedefinition {name} applied and established", markup=False)
    except ApiException as exc:
        fail(f"the cluster refused the CRDs: {exc.status} {exc.reason}: {_message(exc)}", ExitCode.FAILED)
    except (
        OSError,
        urllib3.exceptions.HTTPError,
    ) as exc:  # refused, timed out, TLS: after the client's retries
        reason = getattr(exc, "reason", None) or exc
        fail(f"cannot reach the cluster at {api.configuration.host}: {reason}", ExitCode.FAILED)
    finally:
        api.close()


def _wait_established(extensions: Any, name: str) -> None:
    deadline = time.monotonic() + ESTABLISHED_WAIT_S
    while time.monotonic() < deadline:
        conditions = extensions.read_custom_resource_definition(name).status.conditions or []
        if any(c.type == "Established" and c.status == "True" for c in conditions):
            return
        time.sleep(0.5)
    fail(
        f"customresourcedefinition {name} was not Established after {ESTABLISHED_WAIT_S:.0f} s",
        ExitCode.FAILED,
    )


def _message(exc: Any) -> str:
    try:
        return str(yaml.safe_load(exc.body).get("message", exc.body))
    except (yaml.YAMLError, AttributeError, TypeError):
        return str(exc.body)
