"""`tuner operator`: reconcile Experiment custom resources on a Kubernetes cluster.

The operator itself lives in `controllers.kubernetes.operator`; this module reads the options, connects to
the cluster (in-cluster service account, else the kubeconfig) and the store, serves /healthz /readyz
/metrics and runs it until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer

from tuner.cli._common import ExitCode, fail, settings_from, stderr_console, store_option


def _namespaces(value: str | None) -> list[str] | None:
    if value is None or value.strip() in ("", "*"):
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    for name in names:
        if not name.replace("-", "").isalnum() or name != name.lower() or len(name) > 63:
            fail(
                f"--namespace: {name!r} is not a namespace name (lower-case letters, digits and '-'); "
                "give one name, a comma list, or '*' for every namespace"
            )
    return names


def register(app: typer.Typer) -> None:
    """Add the `operator` command."""

    @app.command("operator")
    def operator(
        namespace: str | None = typer.Option(
            None,
            "--namespace",
            "-n",
            envvar="TUNER_OPERATOR_NAMESPACES",
            help="Namespace(s) to watch: one name, a comma list, or '*' (default) for the whole cluster.",
        ),
        metrics_port: int = typer.Option(
            8081,
            "--metrics-port",
            min=0,
            max=65535,
            help="Port of /healthz, /readyz and /metrics (0: any free port).",
        ),
        metrics_host: str = typer.Option("0.0.0.0", "--metrics-host", help="Address of that endpoint."),
        leader_elect: bool = typer.Option(
            False, "--leader-elect", help="Act only while holding the Lease (for several replicas)."
        ),
        lease_namespace: str | None = typer.Option(
            None,
            "--lease-namespace",
            envvar="POD_NAMESPACE",
            help="Namespace of the leadership Lease (default: the first watched namespace, else 'default').",
        ),
        suggestion_service: str | None = typer.Option(
            None,
            "--suggestion-service",
            envvar="TUNER_SUGGESTION_SERVICE",
            help="URL of `tuner suggestion-server` (e.g. http://tuner-suggestion:6789); default in-process.",
        ),
        server_url: str | None = typer.Option(
            None,
            "--server-url",
            envvar="TUNER_SERVER",
            help="URL of `tuner server` as trial pods reach it; given to trials as TUNER_SERVER (Push metrics).",
        ),
        katib_compat: bool = typer.Option(
            False,
            "--katib-compat",
            help="Reconcile Katib's kubeflow.org/v1beta1 Experiments (Katib's CRDs installed, its controller not).",
        ),
        kubeconfig: str | None = typer.Option(
            None,
            "--kubeconfig",
            envvar="KUBECONFIG",
            help="Kubeconfig file (default: in-cluster, then ~/.kube/config).",
        ),
        store: str | None = store_option(),
        poll_interval: float = typer.Option(1.0, "--poll-interval", min=0.05, help="Seconds between passes."),
    ) -> None:
        """Reconcile Experiments on Kubernetes: trials as Jobs (or any kind), status in the custom resource.

        Drives the same reconcile loop and suggestion algorithms as `tuner run`; records everything in the
        store, so the dashboard shows cluster experiments too.
        """
        try:
            from controllers.kubernetes.real import RealKubeClient, load_api_client
        except ImportError as exc:
            fail(
                f"`tuner operator` needs the Kubernetes client ({exc.name} is not installed): "
                "pip install 'tuner-hpo[cluster]'",
                ExitCode.FAILED,
            )
        from controllers.kubernetes.operator import Operator, OperatorConfig, default_identity
        from controllers.kubernetes.telemetry import HealthServer, OperatorMetrics, json_logging
        from controllers.kubernetes.trials import KATIB_GROUP, TUNER_GROUP
        from tuner.store import open_store

        namespaces = _namespaces(namespace)
        settings = settings_from(store=store)
        if suggestion_service is not None and not suggestion_service.startswith(("http://", "https://")):
            fail(
                f"--suggestion-service: {suggestion_service!r} is not an http(s) URL; e.g. http://tuner-suggestion:6789"
            )
        try:
            api = load_api_client(kubeconfig)
        except Exception as exc:
            fail(
                f"--kubeconfig: cannot configure the Kubernetes client ({exc}); run in a pod or pass --kubeconfig"
            )
        json_logging()
        config = OperatorConfig(
            namespaces=namespaces,
            group=KATIB_GROUP if katib_compat else TUNER_GROUP,
            server_url=server_url,
            suggestion_service=suggestion_service,
            poll_interval=poll_interval,
            leader_elect=leader_elect,
            lease_namespace=lease_namespace or (namespaces[0] if namespaces else "default"),
            identity=default_identity(),
        )
        db = open_store(settings.store_url)
        metrics = OperatorMetrics()
        op = Operator(RealKubeClient(api), db, config, metrics)
        health = HealthServer(metrics, op.ready.is_set, metrics_port, metrics_host).start()
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        console = stderr_console()
        scope = ",".join(namespaces) if namespaces else "all namespaces"
        console.print(
            f"tuner operator: watching {config.group.api_version} Experiments in {scope}; "
            f"health and metrics on port {health.port}",
            markup=False,
        )
        try:
            code = op.run(stop)
        finally:
            health.stop()
            db.close()
        raise typer.Exit(int(ExitCode.FAILED) if code else int(ExitCode.OK))
