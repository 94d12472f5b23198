"""`tuner models list|show|versions|alias|delete|promote|render-deployment`: the model registry.

    tuner models promote quickstart-digits --model quickstart --alias production [--canary 10]
    tuner models alias quickstart production 3        (or --delete)
    tuner models show quickstart@production           (a version, its lineage, the model's history)

Unknown names and malformed references exit with 2 and one line saying what to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from tuner.cli._common import (
    ExitCode,
    OutputFormat,
    fail,
    new_typer,
    output_option,
    print_document,
    settings_from,
    stderr_console,
    stdout_console,
    store_option,
)

NAMESPACE_OPTION_HELP = "The namespace of the experiment and the model."


def register(app: typer.Typer) -> None:
    models = new_typer(name="models", help="The model registry: versions, aliases, promotion, deployment.")
    models.command("list")(list_models)
    models.command("show")(show_model)
    models.command("versions")(list_versions)
    models.command("alias")(alias)
    models.command("delete")(delete_model)
    models.command("promote")(promote)
    models.command("render-deployment")(render_deployment)
    app.add_typer(models)


@contextmanager
def _registry(store: str | None, namespace: str = "default") -> Iterator[Any]:
    """The registry over the store named by `--store`; registry errors become one line and exit 2."""
    from serving.registry import Registry
    from tuner.errors import NotFoundError, StoreValueError
    from tuner.store import open_store

    db = open_store(settings_from(store=store).store_url)
    try:
        yield Registry(db, namespace=namespace)
    except (NotFoundError, StoreValueError) as exc:
        fail(str(exc).strip("'\""), ExitCode.INVALID)
    finally:
        db.close()


def list_models(
    namespace: str = typer.Option("default", "--namespace", "-n", help=NAMESPACE_OPTION_HELP),
    store: str | None = store_option(),
    output: OutputFormat | None = output_option(),
) -> None:
    """List registered models with their newest version and aliases."""
    from serving.documents import model_summaries

    with _registry(store, namespace) as registry:
        rows = model_summaries(registry)
    if output:
        print_document({"models": rows}, output)
        return
    table = Table(title="registered models")
    for column in ("name", "versions", "aliases"):
        table.add_column(column)
    for row in rows:
        aliases = ", ".join(f"{a}=v{v}" for a, v in row["aliases"].items())
        table.add_row(row["name"], str(row["versions"]), aliases)
    stdout_console().print(table)


def show_model(
    ref: str = typer.Argument(..., help="NAME, NAME/VERSION or NAME@ALIAS (models:/ prefix optional)."),
    namespace: str = typer.Option("default", "--namespace", "-n", help=NAMESPACE_OPTION_HELP),
    store: str | None = store_option(),
    output: OutputFormat | None = output_option(),
) -> None:
    """Show one version (lineage, signature, metrics) and the model's aliases and history."""
    from serving.documents import history_documents, version_document

    with _registry(store, namespace) as registry:
        model, version = registry.resolve(ref)
        document = version_document(registry, model.name, version)
        document["aliases"] = registry.store.list_aliases(model.id)
        document["history"] = history_documents(registry, model)
    if output:
        print_document(document, output)
        return
    console = stdout_console()
    console.print(f"{document['uri']}  ({document['flavor']}, {document['digest']})", markup=False)
    if "source" in document:
        console.print(f"  source: {document['source']}", markup=False)
    console.print(f"  metrics: {document['metrics']}", markup=False)
    console.print(f"  inputs: {document['inputs']}  outputs: {document['outputs']}", markup=False)
    console.print(f"  aliases: {document['aliases']}", markup=False)
    table = Table(title="history")
    for column in ("at", "kind", "alias", "version", "from", "actor", "reason"):
        table.add_column(column)
    for event in document["history"]:
        table.add_row(
            event["at"][:19],
            event["kind"],
            event["alias"] or "",
            "" if event["version"] is None else str(event["version"]),
            "" if event["previousVersion"] is None else str(event["previousVersion"]),
            event["actor"],
            event["reason"],
        )
    console.print(table)


def list_versions(
    name: str = typer.Argument(..., help="The registered model."),
    namespace: str = typer.Option("default", "--namespace", "-n", help=NAMESPACE_OPTION_HELP),
    store: str | None = store_option(),
    output: OutputFormat | None = output_option(),
) -> None:
    """List a model's versions with their source trial and metrics."""
    from serving.documents import version_document

    with _registry(store, namespace) as registry:
        model = registry.model(name)
        aliases = registry.store.list_aliases(model.id)
        documents = [
            version_document(registry, name, v) for v in registry.store.list_model_versions(model.id)
        ]
    if output:
        print_document({"versions": documents}, output)
        return
    table = Table(title=f"versions of {name}")
    for column in ("version", "aliases", "source", "metrics", "created"):
        table.add_column(column)
    for document in documents:
        held = ", ".join(a for a, v in aliases.items() if v == document["version"])
        source = document.get("source") or {}
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in document["metrics"].items())
        table.add_row(
            str(document["version"]),
            held,
            f"{source.get('experiment', '')}/{source.get('trial', '')}" if source else "",
            metrics,
            document["createdAt"][:19],
        )
    stdout_console().print(table)


def alias(
    name: str = typer.Argument(..., help="The registered model."),
    alias_name: str = typer.Argument(..., metavar="ALIAS", help="The alias, e.g. production or champion."),
    version: int | None = typer.Argument(None, help="The version the alias should name."),
    delete: bool = typer.Option(False, "--delete", help="Remove the alias instead."),
    reason: str = typer.Option("", "--reason", help="Why, for the history."),
    namespace: str = typer.Option("default", "--namespace", "-n", help=NAMESPACE_OPTION_HELP),
    store: str | None = store_option(),
) -> None:
    """Point an alias at a version (a server following NAME@ALIAS switches over), or --delete it."""
    if delete == (version is not None):
        fail("give either a VERSION to point the alias at, or --delete (not both)")
    with _registry(store, namespace) as registry:
        if delete:
            event = registry.delete_alias(name, alias_name, reason=reason)
            stderr_console().print(
                f"removed {name}@{alias_name} (was v{event.previous_version})", markup=False
            )
            return
        assert version is not None
        event = registry.set_alias(name, alias_name, version, reason=reason)
    was = f" (was v{event.previous_version})" if event.previous_version else ""
    stderr_console().print(f"{name}@{alias_name} -> v{version}{was}", markup=False)


def delete_model(
    name: str = typer.Argument(..., help="The registered model."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    namespace: str = typer.Option("default", "--namespace", "-n", help=NAMESPACE_OPTION_HELP),
    store: str | None = store_option(),
) -> None:
    """Delete a model with its versions, aliases, history and deployments (artifacts stay)."""
    if not yes and not typer.confirm(f"delete model {name} with all its versions and history?"):
        fail("not deleted", ExitCode.FAILED)
    with _registry(store, namespace) as registry:
        registry.delete_model(name)
    stderr_console().print(f"deleted model {name}", markup=False)


def promote(
    experiment: str = typer.Argument(..., help="The experiment whose best trial's model to promote."),
    model: str | None = typer.Option(
        None, "--model", help="Registered model name (default: the logged name)."
    ),
    alias_name: str = typer.Option("production", "--alias", help="The alias to move."),
    canary: int | None = typer.Option(
        None,
        "--canary",
        min=1,
        max=100,
        help="Send this percent of the alias's traffic to the new version first.",
    ),
    namespace: str = typer.Option("default", "--namespace", "-n", help=NAMESPACE_OPTION_HELP),
    store: str | None = store_option(),
) -> None:
    """Register the best trial's model and move the alias to it (or start a canary)."""
    with _registry(store, namespace) as registry:
        done = registry.promote(experiment, model_name=model, alias=alias_name, canary=canary)
    console = stderr_console()
    new = "registered" if done.created else "already registered as"
    console.print(
        f"best trial {done.trial.name} ({done.value:.6g}): {new} models:/{done.model}/{done.version}",
        markup=False,
    )
    if done.canary_percent is not None:
        console.print(
            f"canary: v{done.version} takes {done.canary_percent}% of {done.model}@{done.alias} "
            f"(v{done.previous_version} keeps the rest); promote again without --canary to finish",
            markup=False,
        )
    else:
        was = f" (was v{done.previous_version})" if done.previous_version else ""
        if done.previous_version == done.version:
            was = " (unchanged)"
        console.print(f"{done.model}@{done.alias} -> v{done.version}{was}", markup=False)


def render_deployment(
    ref: str = typer.Argument(..., help="NAME@ALIAS to deploy."),
    kind: str = typer.Option(
        "kserve", "--kind", help="kserve (InferenceService) or deployment (Deployment + Service)."
    ),
    image: str = typer.Option("docker.io/tunerexamples/tuner:latest", "--image", help="Image holding tuner."),
    k8s_namespace: str = typer.Option("default", "--k8s-namespace", help="Kubernetes namespace."),
    output_file: Path | None = typer.Option(
        None, "--output-file", "-f", help="Write here instead of stdout."
    ),
    namespace: str = typer.Option("default", "--namespace", "-n", help=NAMESPACE_OPTION_HELP),
    store: str | None = store_option(),
) -> None:
    """Write Kubernetes manifests serving NAME@ALIAS (canary: two Deployments or canaryTrafficPercent)."""
    import yaml

    from serving.render import render
    from serving.uris import parse_model_ref

    if kind not in ("kserve", "deployment"):
        fail(f"--kind {kind!r} must be kserve or deployment")
    with _registry(store, namespace) as registry:
        parsed = parse_model_ref(ref)
        if parsed.alias is None:
            fail(f"{ref!r}: give NAME@ALIAS, e.g. quickstart@production")
        documents = render(
            registry, parsed.name, parsed.alias, kind=kind, image=image, namespace=k8s_namespace
        )
    text = yaml.safe_dump_all(documents, sort_keys=False)
    if output_file is None:
        typer.echo(text, nl=False)
    else:
        output_file.write_text(text, encoding="utf-8")
        stderr_console().print(f"wrote {len(documents)} manifests to {output_file}", markup=False)
