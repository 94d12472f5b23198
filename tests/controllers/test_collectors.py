"""Katib's metrics formats, edge cases included."""

from datetime import datetime, timezone

import pytest

from controllers.collectors.base import Observation, latest
from controllers.collectors.jsonlines import JsonLinesCollector
from controllers.collectors.text import TextCollector
from controllers.collectors.timestamps import parse_rfc3339

NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)


def clock() -> datetime:
    return NOW


def values(observations: list[Observation]) -> list[tuple[str, float, int]]:
    return [(o.metric, o.value, o.step) for o in observations]


def test_default_rule_keeps_only_declared_metrics() -> None:
    c = TextCollector(["accuracy", "loss"], clock=clock)
    got = c.feed("epoch=1 accuracy=0.5 loss = 1e-3 lr=0.1\n")
    assert values(got) == [("accuracy", 0.5, 1), ("loss", 0.001, 1)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("accuracy=0.9", 0.9),
        ("accuracy = -.5", -0.5),
        ("accuracy=+3", 3.0),
        ("accuracy=1.5E+2", 150.0),
        ("Validation accuracy=0.25, other", 0.25),
    ],
)
def test_number_forms(line: str, expected: float) -> None:
    assert values(TextCollector(["accuracy"], clock=clock).feed(line + "\n")) == [("accuracy", expected, 1)]


def test_name_must_match_exactly() -> None:
    # the rule's name group takes the whole word, so val_accuracy is not accuracy
    assert TextCollector(["accuracy"], clock=clock).feed("val_accuracy=0.3\n") == []


def test_empty_value_is_skipped_not_fatal() -> None:
    assert TextCollector(["accuracy"], clock=clock).feed("accuracy=\naccuracy=abc\n") == []


def test_leading_rfc3339_timestamp_is_the_time() -> None:
    c = TextCollector(["loss"], clock=clock)
    got = c.feed("2024-05-06T07:08:09.123456789Z loss=0.2\n2024-05-06T09:08:09.123456+02:00 loss=0.1\n")
    assert got[0].timestamp == datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
    assert got[1].timestamp == got[0].timestamp
    assert latest(got) == got[1]  # equal times: the one reported last


def test_latest_follows_timestamps_not_order() -> None:
    c = TextCollector(["loss"], clock=clock)
    got = c.feed("2024-01-02T00:00:00Z loss=0.5\n2024-01-01T00:00:00Z loss=0.1\n")
    assert latest(got).value == 0.5  # type: ignore[union-attr]


def test_partial_lines_wait_for_their_end() -> None:
    c = TextCollector(["loss"], clock=clock)
    assert c.feed("lo") == []
    assert c.feed("ss=0.") == []
    assert values(c.feed("25\nloss=0.2")) == [("loss", 0.25, 1)]
    assert values(c.finish()) == [("loss", 0.2, 2)]


def test_custom_metrics_format() -> None:
    c = TextCollector(["accuracy"], filters=[r"\{metricName: ([\w|-]+), metricValue: ([+-]?\d*(\.\d+)?)\}"])
    got = c.feed("{metricName: accuracy, metricValue: 0.8}\naccuracy=0.1\n")
    assert values(got) == [("accuracy", 0.8, 1)]


def test_several_matches_on_one_line_count_as_separate_reports() -> None:
    got = TextCollector(["loss"], clock=clock).feed("loss=3 loss=2\n")
    assert values(got) == [("loss", 3.0, 1), ("loss", 2.0, 2)]


def test_json_lines_strings_numbers_timestamps_and_steps() -> None:
    c = JsonLinesCollector(["acc", "loss"], clock=clock)
    got = c.feed(
        '{"acc": "0.5", "timestamp": 1700000000.5}\n'
        '{"acc": 0.75, "loss": "0.1", "step": 7, "timestamp": "2024-01-01T00:00:00Z"}\n'
        "not json\n[1, 2]\n"
        '{"acc": true, "loss": null}\n'
    )
    assert values(got) == [("acc", 0.5, 1), ("acc", 0.75, 7), ("loss", 0.1, 7)]
    assert got[0].timestamp == datetime.fromtimestamp(1700000000.5, tz=timezone.utc)
    assert c.skipped_lines == 2


@pytest.mark.parametrize("text", ["2024-01-01", "2024-01-01T00:00:00", "yesterday", "2024-13-01T00:00:00Z"])
def test_not_rfc3339(text: str) -> None:
    assert parse_rfc3339(text) is None
