"""The server-drawn SVG preview of the optimisation history that the experiment page carries in its HTML.

Parsing plotly.js takes the browser seconds, so without it the page shows no figure for that long. The
preview of a large experiment is drawn from the data this server already holds for it (the page never waits
for seconds of loading): on the first view after a start it has none, and for a running experiment it may be
a few trials behind until plotly draws the current figure over it. A small experiment loads in tens of
milliseconds, so the page loads it. Either way the figure modules must be imported already (seconds, once
per process, started by the first page view), so the very first page a server shows has no preview.
"""

from __future__ import annotations

import logging

from tuner.dashboard.cache import ExperimentCache
from tuner.dashboard.warmup import figures_imported
from tuner.store import Store
from tuner.store.records import Experiment
from tuner.visualization import FigureOptionError, figure_json
from tuner.visualization.svg import NotDrawable, scatter_svg

logger = logging.getLogger(__name__)


SYNC_LOAD_TRIALS = 2_000
"""Experiments up to this many trials are loaded for the preview if need be (tens of milliseconds)."""


def history_preview(cache: ExperimentCache, store: Store, record: Experiment, trials: int) -> str | None:
    """The history figure of `record` (which has `trials` trials) as SVG markup, or None when this server
    cannot draw it without a long wait."""
    if not figures_imported():
        return None
    latest = cache.get(store, record) if trials <= SYNC_LOAD_TRIALS else cache.latest(record)
    if latest is None:
        return None
    version, data = latest
    key = (version, "history", "svg")
    body = cache.figures.get(key)
    if body is None:
        try:
            svg = scatter_svg(figure_json("history", data), label="Optimisation history (preview)")
        except (FigureOptionError, NotDrawable):  # too few trials for the figure yet: the page says so later
            return None
        except Exception:  # a preview only: the interactive figure reports its own errors
            logger.debug("history preview of %s/%s failed", record.namespace, record.name, exc_info=True)
            return None
        body = svg.encode()
        cache.figures.put(key, body)
    return body.decode()
