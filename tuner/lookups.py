"""Finding what a user named: experiments in another namespace, misspelled names, short trial and run ids.

The CLI and `tuner.Client` share these so that a name that works in one works in the other, and a miss
says where the thing is ("it exists in namespace kubeflow (-n kubeflow)") or what was probably meant.
A trial is found by its full name, a unique prefix of it, or its short suffix (`tuner run` names trials
`<experiment>-<8 characters>`, and the 8 characters are enough); a pipeline run by its id, its name, a
unique prefix, or the 8 characters of its run id the runner prints.
"""

from __future__ import annotations

from tuner.errors import NotFoundError
from tuner.store import StoreReader
from tuner.store.records import Experiment, PipelineRun, Trial


class AmbiguousNameError(NotFoundError):
    """A short id matches more than one record; the message lists them."""


def _did_you_mean(word: str, candidates: list[str]) -> str:
    from tuner.spec.suggest import did_you_mean

    return did_you_mean(word, candidates)


def find_experiment(store: StoreReader, name: str, namespace: str) -> Experiment:
    """The experiment `name` in `namespace`.

    Raises:
        NotFoundError: with where it exists instead, or a close name, in the message.
    """
    try:
        return store.get_experiment(name, namespace)
    except NotFoundError:
        raise NotFoundError(experiment_not_found(store, name, namespace)) from None


def experiment_not_found(store: StoreReader, name: str, namespace: str) -> str:
    """Why `name` was not found in `namespace`, and what to type instead."""
    elsewhere = sorted(e.namespace for e in store.list_experiments(name_prefix=name) if e.name == name)
    if elsewhere:
        where = ", ".join(repr(n) for n in elsewhere)
        return (
            f"no experiment {name!r} in namespace {namespace!r}; it exists in namespace {where} "
            f"(add -n {elsewhere[0]})"
        )
    here = [e.name for e in store.list_experiments(namespace)]
    hint = _did_you_mean(name, here)
    if not hint:
        every = {e.name: e.namespace for e in store.list_experiments()}
        match = _did_you_mean(name, list(every))
        if match:
            close = match.removeprefix("; did you mean ").removesuffix("?")
            hint = f"; did you mean {close} (in namespace {every[close]}, -n {every[close]})?"
    return f"no experiment {name!r} in namespace {namespace!r}{hint}" + (
        "" if hint else "; `tuner experiments list` shows the ones there are"
    )


def find_trial(store: StoreReader, text: str, namespace: str | None = None) -> Trial:
    """The trial named `text`, or the one trial whose name starts with it or whose short suffix does.

    Raises:
        AmbiguousNameError: several trials match (the message names some of them).
        NotFoundError: none does.
    """
    found = store.find_trials(text, namespace)
    exact = [t for t in found if t.name == text]
    prefixed = [t for t in found if t.name.startswith(text)]
    suffixed = [t for t in found if t.name.rpartition("-")[2].startswith(text)]
    for matches in (exact, prefixed, suffixed):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            names = ", ".join(t.name for t in matches[:5])
            raise AmbiguousNameError(
                f"{text!r} matches several trials ({names}{', ...' if len(matches) > 5 else ''}); "
                "give more characters"
            )
    where = f" in namespace {namespace!r}" if namespace is not None else ""
    raise NotFoundError(
        f"no trial {text!r}{where}; `tuner trials list EXPERIMENT` shows the trials (full names, a unique "
        "prefix or the 8-character suffix work)"
    )


RUN_NUMBER_DIGITS = 3  # a number this short is a run number (`runs show 9`), never the start of a run id


def find_run(store: StoreReader, text: str) -> PipelineRun:
    """The pipeline run numbered `text`, or named `text`, or whose short id (the 8 characters of the run id
    the runner prints, the end of its name) is `text`; failing those, the one whose name or short id starts
    with `text`. Exact matches win over prefixes, and a number of up to three digits only ever means a run
    number (a run id that happens to start with "9" is not run 9).

    Raises:
        AmbiguousNameError: several runs match equally well (the message lists them).
        NotFoundError: none does.
    """
    if text.isdecimal():
        try:
            return store.get_run(int(text))
        except NotFoundError:
            pass
    runs = store.list_runs()
    exact = [r for r in runs if text in (r.name, r.name.rpartition("-")[2])]
    partial = [r for r in runs if r.name.startswith(text) or r.name.rpartition("-")[2].startswith(text)]
    tiers = [exact] if text.isdecimal() and len(text) <= RUN_NUMBER_DIGITS else [exact, partial]
    for matches in tiers:
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            names = ", ".join(f"run {r.id} {r.name!r}" for r in matches[:5])
            more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
            raise AmbiguousNameError(
                f"{text!r} matches several pipeline runs ({names}{more}); give more characters or the run number"
            )
    raise NotFoundError(f"no pipeline run {text}; see `tuner pipelines runs list`")


__all__ = ["AmbiguousNameError", "experiment_not_found", "find_experiment", "find_run", "find_trial"]
