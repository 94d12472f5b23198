"""Schema-driven fuzzing with schemathesis, shared by the server's and the suggestion service's fuzz tests.

Every operation of a live service's OpenAPI gets positive (schema-valid) and negative (schema-breaking)
cases, and every response goes through every schemathesis check: no 5xx, status code, content type, body
and headers as documented, invalid input refused, valid input accepted, auth not ignored. `FUZZ_SETTINGS`
and the TOML each test passes are the whole configuration: bounded, deterministic (derandomized), writing no
example database and no report into the repository.

The operations are looped over here rather than with `schema.parametrize()` because its fixture-based
loader does not run on pytest 9.2 (it sets a node attribute pytest removed).
"""

from __future__ import annotations

from collections.abc import Mapping

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case

FUZZ_SETTINGS = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


def fuzz(
    schema_url: str, config: str = "", headers: Mapping[str, str] | None = None
) -> tuple[int, list[str]]:
    """Fuzz every operation of the OpenAPI at `schema_url` with the schemathesis TOML `config`; the number of
    operations and every failure found."""
    schema = schemathesis.openapi.from_url(schema_url, config=SchemathesisConfig.from_str(config))
    failures: list[str] = []
    count = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        count += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # the headers are given to generation, not only to the call: a negative case must not count a
            # header it broke (the bearer token's format) that the call then replaces with a valid one
            @FUZZ_SETTINGS
            @given(case=operation.as_strategy(generation_mode=mode, headers=dict(headers or {})))
            def run(case: Case) -> None:
                case.call_and_validate(headers=dict(headers or {}))

            try:
                run()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # no parameter and no body: nothing to break
            except (KeyboardInterrupt, SystemExit):
                raise
            except (
                BaseException
            ) as exc:  # a FailureGroup too: every operation is fuzzed, failures reported together
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    return count, failures
