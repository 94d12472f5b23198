"""Client of the HTTP suggestion service, with timeouts and retries.

`SuggestionClient` speaks the versioned JSON API; `RemoteSuggester` wraps it in the same two methods a
`Suggester` offers (`validate`, `suggest`), so the controller can use a remote service and an in-process
algorithm alike. Suggest requests are idempotent (the service is stateless), so connection failures,
timeouts and 502/503/504 answers are retried with exponential backoff; other errors are not.
Problem+json answers become the same errors the in-process call raises.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from suggestions.base import LabelledAssignment
from suggestions.history import History
from suggestions.protocol import API_VERSION
from suggestions.settings import InvalidSettingsError
from tuner.errors import Problem, SearchExhaustedError, SpecError, SuggestionError
from tuner.space import Assignment, SearchSpace

_RETRY_STATUS = frozenset({502, 503, 504})


class SuggestionUnavailableError(SuggestionError):
    """The service could not be reached, or answered 502/503/504, on every attempt: try again later."""


class SuggestionClient:
    """Calls a suggestion service.

    Args:
        base_url: e.g. ``http://suggestions:6789``.
        timeout: seconds for one attempt (connect, read, write, pool).
        retries: further attempts after a failed one (connection errors, timeouts, 502/503/504).
        backoff: first wait between attempts in seconds, doubled each time.
        transport: an httpx transport (tests may pass an in-memory one).
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)
        self.retries, self.backoff = retries, backoff

    def __enter__(self) -> SuggestionClient:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def healthy(self) -> bool:
        """True when ``/healthz`` answers 200 (one attempt)."""
        try:
            return self._http.get("/healthz").status_code == 200
        except httpx.HTTPError:
            return False

    def suggest(
        self,
        algorithm: str,
        space: SearchSpace,
        settings: Mapping[str, str],
        history: History,
        k: int,
        *,
        budget: int | None = None,
    ) -> list[Assignment]:
        """As `Suggester.suggest`, remotely. Raises the same errors (SearchExhaustedError included)."""
        body = {
            "algorithm": algorithm,
            "settings": [{"name": n, "value": str(v)} for n, v in settings.items()],
            "parameters": space.to_dict(),
            "history": history.to_dict(),
            "count": k,
            "budget": budget,
        }
        reply = self._post(f"/api/{API_VERSION}/suggest", body)
        if reply.get("exhausted"):
            raise SearchExhaustedError(f"{algorithm}: the search space is used up (reported by the service)")
        labels = reply.get("labels") or [{} for _ in reply["assignments"]]
        return [
            LabelledAssignment(space.parse(a), tags) if tags else space.parse(a)
            for a, tags in zip(reply["assignments"], labels, strict=False)
        ]

    def validate(
        self,
        algorithm: str,
        settings: Mapping[str, str],
        space: SearchSpace,
        *,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
    ) -> list[Problem]:
        """As `Suggester.validate`, remotely."""
        body = {
            "algorithm": algorithm,
            "settings": [{"name": n, "value": str(v)} for n, v in settings.items()],
            "parameters": space.to_dict(),
            "maxTrialCount": max_trial_count,
            "parallelTrialCount": parallel_trial_count,
        }
        reply = self._post(f"/api/{API_VERSION}/validate", body)
        return [Problem(p["path"], p["message"]) for p in reply["problems"]]

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                response = self._http.post(path, json=body)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                if attempt == self.retries:
                    raise SuggestionUnavailableError(
                        f"suggestion service unreachable at {self._http.base_url}: {exc}"
                    ) from exc
            else:
                if response.status_code not in _RETRY_STATUS or attempt == self.retries:
                    return _decode(response)
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")


def _decode(response: httpx.Response) -> dict[str, Any]:
    if response.is_success:
        data: dict[str, Any] = response.json()
        return data
    try:
        problem = response.json()
    except ValueError:
        problem = {"detail": response.text}
    detail = str(problem.get("detail") or problem.get("title") or response.reason_phrase)
    problems = [Problem(p["path"], p["message"]) for p in problem.get("problems", [])]
    title = problem.get("title", "")
    if response.status_code == 422 and title == "Unknown algorithm":
        raise SuggestionError(detail)
    if response.status_code == 422 and title == "Invalid algorithm settings":
        raise InvalidSettingsError("", problems or [Problem("algorithmSettings", detail)])
    if response.status_code == 422:
        raise SpecError(problems or [Problem("", detail)])
    if response.status_code in _RETRY_STATUS:
        raise SuggestionUnavailableError(f"suggestion service answered {response.status_code}: {detail}")
    raise SuggestionError(f"suggestion service answered {response.status_code}: {detail}")


class RemoteSuggester:
    """One algorithm of a remote service, with the `Suggester` methods the controller calls."""

    def __init__(self, client: SuggestionClient, name: str) -> None:
        self.client, self.name = client, name

    def validate(
        self,
        settings: Mapping[str, str],
        space: SearchSpace,
        *,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
    ) -> list[Problem]:
        """See `Suggester.validate`."""
        return self.client.validate(
            self.name,
            settings,
            space,
            max_trial_count=max_trial_count,
            parallel_trial_count=parallel_trial_count,
        )

    def suggest(
        self,
        space: SearchSpace,
        settings: Mapping[str, str],
        history: History,
        k: int,
        *,
        budget: int | None = None,
    ) -> list[Assignment]:
        """See `Suggester.suggest`."""
        return self.client.suggest(self.name, space, settings, history, k, budget=budget)
