"""Fixtures of the pipeline tests (helpers live in pipeline_helpers.py so tests can import them)."""

from pipeline_helpers import harness, make_pipeline  # noqa: F401 - fixtures
