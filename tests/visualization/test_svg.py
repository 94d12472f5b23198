"""The static SVG of a scatter figure (the dashboard's first-paint preview): every distinct pixel of the
figure's points is drawn, axes follow the figure's scales, text is escaped, and what it cannot draw is
refused by name. The preview of the history figure is read back from the experiment page's HTML."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.visualization.conftest import build_big
from tuner.dashboard.cache import ExperimentCache
from tuner.dashboard.previews import SYNC_LOAD_TRIALS, history_preview
from tuner.dashboard.warmup import import_figures
from tuner.store import open_store
from tuner.visualization import figure_json, load_experiment_data
from tuner.visualization.svg import NotDrawable, scatter_svg

SVG = "{http://www.w3.org/2000/svg}"


def dots(svg: str) -> list[tuple[int, int]]:
    """The centres of the marker dots (zero-length segments `M x y h0` of the markers' path)."""
    return [(int(x), int(y)) for x, y in re.findall(r"M(-?\d+) (-?\d+)h0", svg)]


def tick_labels(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]


def test_markers_lines_and_axes() -> None:
    figure = {
        "data": [
            {"type": "scatter", "mode": "markers", "x": [0, 1, 2, 3], "y": [4.0, 1.0, None, 2.0]},
            {
                "mode": "lines",
                "line": {"shape": "hv", "color": "#d62728"},
                "x": [0, 1, 3],
                "y": [4.0, 1.0, 1.0],
            },
        ],
        "layout": {"title": {"text": "History <of> x & y"}, "xaxis": {"title": {"text": "trial"}}},
    }
    svg = scatter_svg(figure)
    root = ET.fromstring(svg)  # well-formed: the title's < and & are escaped
    assert root.get("aria-label") == "History <of> x & y"
    assert len(dots(svg)) == 3  # the None value is not drawn
    step = next(p for p in root.iter(f"{SVG}path") if p.get("stroke") == "#d62728")
    assert step.get("d", "").count("H") == 2 and step.get("d", "").count("V") == 2  # a step line: H then V
    # the point of lowest y sits lowest on screen (SVG's y grows downwards)
    by_value = sorted(zip([4.0, 1.0, 2.0], dots(svg), strict=True))
    assert [d[1] for _, d in by_value] == sorted((d[1] for _, d in by_value), reverse=True)
    labels = [float(t) for t in tick_labels(root)]
    assert min(labels) <= 1.5 and max(labels) >= 3.5 and len(labels) >= 3


def test_points_on_one_pixel_are_drawn_once() -> None:
    xs = [i / 1000 for i in range(10_000)]  # 10,000 points over a few hundred pixels
    svg = scatter_svg({"data": [{"mode": "markers", "x": xs, "y": [math.sin(x) for x in xs]}]})
    drawn = dots(svg)
    assert len(drawn) == len(set(drawn)) and 100 < len(drawn) < 2_000
    assert len(svg) < 40_000


def test_log_axis_has_decade_ticks_and_drops_non_positive_values() -> None:
    figure = {
        "data": [{"mode": "markers", "x": [1, 2, 3, 4], "y": [0.001, 0.1, 10.0, -1.0]}],
        "layout": {"yaxis": {"type": "log"}},
    }
    svg = scatter_svg(figure)
    assert len(dots(svg)) == 3
    assert tick_labels(ET.fromstring(svg)) == ["0.001", "0.01", "0.1", "1", "10"]


@pytest.mark.parametrize(
    ("figure", "refusal"),
    [
        ({"data": [{"type": "parcoords", "dimensions": []}]}, "parcoords"),
        (
            {"data": [{"mode": "markers", "x": [1], "y": [1]}], "layout": {"xaxis": {"type": "category"}}},
            "category",
        ),
        ({"data": [{"mode": "markers", "x": [1, 2], "y": [None, None]}]}, "no point"),
    ],
)
def test_what_it_cannot_draw_is_refused_by_name(figure: dict, refusal: str) -> None:
    with pytest.raises(NotDrawable, match=refusal):
        scatter_svg(figure)


def test_history_preview_loads_a_small_experiment_and_never_waits_for_a_large_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    build_big(url, trials=300, steps=2, name="preview")
    import_figures()
    store = open_store(url)
    try:
        record = store.get_experiment("preview")
        large = ExperimentCache()
        # as if it had more trials than a page may load: only data already held is drawn
        assert history_preview(large, store, record, SYNC_LOAD_TRIALS + 1) is None and large.loads == 0
        large.get(store, record)
        assert history_preview(large, store, record, SYNC_LOAD_TRIALS + 1) is not None
        small = ExperimentCache()
        svg = history_preview(small, store, record, 300)  # small: loaded for the preview
        assert small.loads == 1 and svg is not None
        assert svg == history_preview(small, store, record, 300) and small.loads == 1  # kept with the figures
    finally:
        store.close()
    figure = figure_json("history", load_experiment_data(url, "preview"))
    markers = figure["data"][0]
    expected_pixels = len(set(zip(markers["x"], markers["y"], strict=True)))
    assert 0 < len(dots(svg)) <= expected_pixels
    assert ET.fromstring(svg).get("aria-label") == "Optimisation history (preview)"
