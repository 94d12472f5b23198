"""The registry's rules on top of the store: versions, aliases, promotion, canary and rollback.

The store keeps rows; this module decides what a change means:

* A version is immutable: it pins one model artifact (by digest), the trial or task it came from, the
  metrics at registration, the signature and the input example. Registering the same artifact from the
  same trial again returns the existing version.
* An alias (`production`, `champion`, ...) names one version; `models:/NAME@alias` resolves through it.
* What `tuner serve NAME@alias` routes to is the deployment `NAME@alias`: revisions (one per version
  served) and a traffic split. Moving the alias gives the new version 100 % and makes it the last good
  revision; a canary gives the new version a share first while the alias stays where it was; a rollback
  gives the last good revision 100 % again.
* Every change appends to the model's history (`registry_events`): who, what, from which version to
  which, and why.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import socket
from dataclasses import dataclass
from typing import Any

from serving.flavors import META_FILE
from serving.logged import MODEL_TYPES
from serving.uris import ModelRef, parse_model_ref
from tuner.artifacts import ArtifactStore, open_artifact_store
from tuner.config import Settings
from tuner.errors import NotFoundError, StoreValueError, TunerError
from tuner.states import TrialState
from tuner.store import Store
from tuner.store.records import (
    DEFAULT_NAMESPACE,
    Artifact,
    Deployment,
    Direction,
    Goal,
    MetricStrategy,
    ModelVersion,
    RegisteredModel,
    RegistryEvent,
    Revision,
    Trial,
)

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][\w.\-]*$")
STABLE, CANARY = "stable", "canary"


def default_actor() -> str:
    """Who is making a change, for the history: user@host (pid)."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname()}"


def deployment_name(model: str, alias: str) -> str:
    """The deployment that serves `model@alias` (one per alias)."""
    return f"{model}@{alias}"


def check_model_name(name: str) -> str:
    if not isinstance(name, str) or not _MODEL_NAME.match(name):
        raise StoreValueError(
            f"model name {name!r} must start with a letter or digit and hold only letters, digits, "
            "'_', '-' and '.', e.g. 'quickstart'"
        )
    return name


@dataclass(frozen=True)
class Promotion:
    """What `promote` did: the version registered, the alias and, for a canary, the traffic share."""

    model: str
    version: int
    alias: str
    previous_version: int | None
    canary_percent: int | None
    trial: Trial
    value: float
    created: bool


@dataclass(frozen=True)
class Route:
    """One revision taking a share of an alias's traffic."""

    revision: Revision
    version: ModelVersion
    percent: int
    tag: str


class Registry:
    """Registry operations for one store and one actor (recorded in the history)."""

    def __init__(
        self,
        store: Store,
        *,
        actor: str | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        artifacts: ArtifactStore | None = None,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.actor = actor or default_actor()
        self.namespace = namespace

    # --- lookups ----------------------------------------------------------------------------------------

    def model(self, name: str) -> RegisteredModel:
        return self.store.get_registered_model(name, self.namespace)

    def resolve(self, ref: ModelRef | str) -> tuple[RegisteredModel, ModelVersion]:
        """The version a reference names; a bare name means the newest version.

        Raises:
            NotFoundError: no such model, version or alias (the message says which).
        """
        if isinstance(ref, str):
            ref = parse_model_ref(ref)
        model = self.model(ref.name)
        if ref.version is not None:
            return model, self.store.get_model_version(model.id, ref.version)
        if ref.alias is not None:
            try:
                return model, self.store.get_alias(model.id, ref.alias)
            except NotFoundError:
                aliases = ", ".join(self.store.list_aliases(model.id)) or "none"
                raise NotFoundError(
                    f"model {ref.name} has no alias {ref.alias!r} (its aliases: {aliases}); "
                    f"set one with `tuner models alias {ref.name} {ref.alias} VERSION`"
                ) from None
        versions = self.store.list_model_versions(model.id)
        if not versions:
            raise NotFoundError(f"model {ref.name} has no versions yet")
        return model, versions[-1]

    def artifact(self, version: ModelVersion) -> Artifact:
        if version.artifact_id is None:
            raise NotFoundError(f"version {version.version} has no model artifact (it was deleted)")
        return self.store.get_artifact(version.artifact_id)

    # --- registering ------------------------------------------------------------------------------------

    def trial_models(self, trial_id: int) -> list[tuple[Artifact, int | None]]:
        """The models a trial logged, and those its pipeline runs' tasks wrote (with the task), oldest first."""
        found: list[tuple[Artifact, int | None]] = [(a, None) for a in self._outputs(trial_id=trial_id)]
        for run in self.store.list_runs(trial_id=trial_id):
            for task in self.store.list_tasks(run.id):
                found.extend((a, task.id) for a in self._outputs(task_id=task.id))
        return found

    def _outputs(self, *, trial_id: int | None = None, task_id: int | None = None) -> list[Artifact]:
        artifacts = []
        for event in self.store.list_events(trial_id=trial_id, task_id=task_id):
            if event.direction == Direction.OUTPUT:
                artifact = self.store.get_artifact(event.artifact_id)
                if artifact.type in MODEL_TYPES and artifact.uri.endswith("/"):
                    artifacts.append(artifact)
        return artifacts

    def _model_meta(self, artifact: Artifact) -> dict[str, Any]:
        """Flavor, signature and example: recorded by log_model, or read from a task's model folder."""
        if artifact.metadata.get("flavor"):
            return dict(artifact.metadata)
        store = self.artifacts or open_artifact_store(settings=Settings.from_env())
        try:
            with store.open(artifact.uri + META_FILE) as handle:
                return dict(json.load(handle))
        except TunerError:
            raise StoreValueError(
                f"artifact {artifact.uri} is not a logged model (no {META_FILE}); in a pipeline task write "
                "it with tuner.log_model(model, path=output_model.path)"
            ) from None

    def register(
        self, model_name: str, artifact: Artifact, *, trial_id: int | None = None, task_id: int | None = None
    ) -> tuple[ModelVersion, bool]:
        """Register `artifact` as the next version of `model_name` (created if new); idempotent.

        Returns the version and whether it was created now.
        """
        check_model_name(model_name)
        try:
            model = self.model(model_name)
        except NotFoundError:
            model = self.store.create_registered_model(model_name, self.namespace)
        for version in self.store.list_model_versions(model.id):
            if (
                version.artifact_id == artifact.id
                and version.source_trial_id == trial_id
                and version.source_task_id == task_id
            ):
                return version, False
        metrics: dict[str, float] = {}
        if trial_id is not None:
            summaries = self.store.metric_summaries(trial_id).items()
            metrics = {name: s.latest for name, s in summaries if s.latest is not None}
        meta = self._model_meta(artifact)
        signature = {
            **(meta.get("signature") or {}),
            "flavor": meta.get("flavor"),
            "input_example": meta.get("input_example"),
            "digest": artifact.digest,
        }
        version = self.store.create_model_version(
            model.id,
            artifact_id=artifact.id,
            source_trial_id=trial_id,
            source_task_id=task_id,
            metrics=metrics,
            signature=signature,
            actor=self.actor,
        )
        return version, True

    def best_trial(self, experiment: str) -> tuple[Trial, float]:
        """The experiment's best succeeded trial by its objective and metric strategy."""
        record = self.store.get_experiment(experiment, self.namespace)
        objective = (record.spec.get("spec") or {}).get("objective") or {}
        metric = objective.get("objectiveMetricName")
        if not metric:
            raise StoreValueError(f"experiment {experiment} has no objectiveMetricName")
        goal = Goal.MAXIMIZE if objective.get("type") == "maximize" else Goal.MINIMIZE
        strategies = {s.get("name"): s.get("value") for s in objective.get("metricStrategies") or []}
        default = MetricStrategy.MAX if goal == Goal.MAXIMIZE else MetricStrategy.MIN
        strategy = MetricStrategy(strategies.get(metric) or default.value)
        best = self.store.best_trial(record.id, metric, goal, strategy, states=[TrialState.SUCCEEDED])
        if best is None:
            raise NotFoundError(f"experiment {experiment} has no succeeded trial that reported {metric}")
        return best.trial, best.value

    def promote(
        self,
        experiment: str,
        *,
        model_name: str | None = None,
        alias: str = "production",
        canary: int | None = None,
    ) -> Promotion:
        """Register the best trial's model and move `alias` to it (or start a canary at `canary` %)."""
        if canary is not None and not 1 <= canary <= 100:
            raise StoreValueError(f"--canary must be a percent from 1 to 100, got {canary}")
        trial, value = self.best_trial(experiment)
        models = self.trial_models(trial.id)
        if not models:
            raise NotFoundError(
                f"the best trial {trial.name} of {experiment} logged no model: call "
                "tuner.log_model(model, name=...) in the trial"
            )
        chosen = [m for m in models if model_name is None or m[0].name == model_name]
        if model_name is not None and not chosen and len(models) == 1:
            chosen = models  # the only model, registered under the name asked for
        if len(chosen) != 1:
            names = ", ".join(sorted({m[0].name for m in models}))
            raise StoreValueError(
                f"the best trial {trial.name} logged models {names}: choose one with --model NAME"
            )
        artifact, task_id = chosen[-1]
        name = model_name or artifact.name
        if task_id is None:
            version, created = self.register(name, artifact, trial_id=trial.id)
        else:
            version, created = self.register(name, artifact, task_id=task_id)
        model = self.model(name)
        previous = self.store.list_aliases(model.id).get(alias)
        if canary is None or canary == 100 or previous is None:
            if canary is not None and canary < 100 and previous is None:
                raise StoreValueError(
                    f"model {name} has no version at alias {alias!r} yet, so there is nothing to compare a "
                    "canary with: promote without --canary first"
                )
            if previous != version.version:  # promoting again changes nothing and logs nothing
                self.set_alias(name, alias, version.version, reason=f"promoted best trial {trial.name}")
            return Promotion(name, version.version, alias, previous, None, trial, value, created)
        self.start_canary(name, alias, version.version, canary, reason=f"best trial {trial.name}")
        return Promotion(name, version.version, alias, previous, canary, trial, value, created)

    # --- aliases and routing ----------------------------------------------------------------------------

    def set_alias(self, model_name: str, alias: str, version: int, *, reason: str = "") -> RegistryEvent:
        """Point `alias` at `version`; the alias's deployment then sends it all traffic."""
        model = self.model(model_name)
        event = self.store.set_alias(model.id, alias, version, actor=self.actor, reason=reason)
        target = self.store.get_model_version(model.id, version)
        deployment = self._deployment(model, alias)
        revision = self._revision_for(deployment, target)
        self.store.set_traffic(
            deployment.id, {revision.id: 100}, tags={revision.id: STABLE}, reason=reason or "alias moved"
        )
        self.store.set_last_good_revision(deployment.id, revision.id)
        return event

    def delete_alias(self, model_name: str, alias: str, *, reason: str = "") -> RegistryEvent:
        model = self.model(model_name)
        return self.store.delete_alias(model.id, alias, actor=self.actor, reason=reason)

    def start_canary(
        self, model_name: str, alias: str, version: int, percent: int, *, reason: str = ""
    ) -> None:
        """Send `percent` % of the alias's traffic to `version`; the rest stays on the last good revision."""
        model = self.model(model_name)
        deployment = self._deployment(model, alias)
        stable = self._stable_revision(deployment, model, alias)
        target = self.store.get_model_version(model.id, version)
        if stable.model_version_id == target.id:
            raise StoreValueError(f"version {version} already serves {model_name}@{alias}; nothing to canary")
        candidate = self._revision_for(deployment, target)
        self.store.set_traffic(
            deployment.id,
            {stable.id: 100 - percent, candidate.id: percent},
            tags={stable.id: STABLE, candidate.id: CANARY},
            reason=f"canary {percent}%: {reason}".strip(": "),
        )
        stable_version = self.store.get_model_version_by_id(stable.model_version_id).version
        self.store.record_registry_event(
            model.id,
            "canary_started",
            alias=alias,
            version=version,
            previous_version=stable_version,
            actor=self.actor,
            reason=f"{percent}% of traffic; {reason}".strip("; "),
        )

    def rollback(self, deployment_id: int, *, reason: str) -> Revision:
        """Give the last good revision all traffic again and record why (the server calls this)."""
        deployment = self.store.get_deployment_by_id(deployment_id)
        if deployment.last_good_revision_id is None:
            raise NotFoundError(f"deployment {deployment.name} has no last good revision to roll back to")
        good = self.store.get_revision(deployment.last_good_revision_id)
        current = self.store.current_traffic(deployment_id)
        bad = [t for t in current if t.revision_id != good.id and t.percent > 0]
        self.store.set_traffic(deployment_id, {good.id: 100}, tags={good.id: STABLE}, reason=reason)
        if deployment.model_id is not None:
            good_version = self.store.get_model_version_by_id(good.model_version_id).version
            bad_version = (
                self.store.get_model_version_by_id(
                    self.store.get_revision(bad[0].revision_id).model_version_id
                )
                if bad
                else None
            )
            _, _, alias = deployment.name.partition("@")
            self.store.record_registry_event(
                deployment.model_id,
                "rollback",
                alias=alias or None,
                version=good_version,
                previous_version=bad_version.version if bad_version else None,
                actor=self.actor,
                reason=reason,
            )
        return good

    def routes(self, model_name: str, alias: str) -> tuple[Deployment, list[Route]]:
        """The alias's deployment and its traffic split; made from the alias on first use."""
        model = self.model(model_name)
        deployment = self._deployment(model, alias)
        traffic = self.store.current_traffic(deployment.id)
        if not traffic:
            target = self.resolve(ModelRef(model_name, alias=alias))[1]
            revision = self._revision_for(deployment, target)
            self.store.set_traffic(
                deployment.id, {revision.id: 100}, tags={revision.id: STABLE}, reason="served"
            )
            self.store.set_last_good_revision(deployment.id, revision.id)
            traffic = self.store.current_traffic(deployment.id)
        routes = []
        for row in traffic:
            revision = self.store.get_revision(row.revision_id)
            version = self.store.get_model_version_by_id(revision.model_version_id)
            routes.append(Route(revision, version, row.percent, row.tag or STABLE))
        return deployment, routes

    def delete_model(self, model_name: str) -> None:
        self.store.delete_registered_model(self.model(model_name).id)

    # --- helpers ----------------------------------------------------------------------------------------

    def _deployment(self, model: RegisteredModel, alias: str) -> Deployment:
        name = deployment_name(model.name, alias)
        try:
            return self.store.get_deployment(name, self.namespace)
        except NotFoundError:
            return self.store.create_deployment(name, self.namespace, model_id=model.id)

    def _revision_for(self, deployment: Deployment, version: ModelVersion) -> Revision:
        for revision in reversed(self.store.list_revisions(deployment.id)):
            if revision.model_version_id == version.id:
                return revision
        return self.store.create_revision(deployment.id, version.id)

    def _stable_revision(self, deployment: Deployment, model: RegisteredModel, alias: str) -> Revision:
        if deployment.last_good_revision_id is not None:
            return self.store.get_revision(deployment.last_good_revision_id)
        current = self.store.get_alias(model.id, alias)
        revision = self._revision_for(deployment, current)
        self.store.set_last_good_revision(deployment.id, revision.id)
        return revision
