"""The server-drawn SVG preview of the optimisation history that the experiment page carries in its HTML.

Parsing plotly.js takes the browser seconds, so without it the page shows no figure for that long. The
preview is drawn from the data this server already holds for the experiment (never a store read, never a
wait): on a first visit after a start nothing is loaded yet and the page shows none; for a running experiment
it may be a few trials behind, until plotly draws the current figure over it.
"""

from __future__ import annotations

import logging

from tuner.dashboard.cache import ExperimentCache
from tuner.dashboard.warmup import figures_imported
from tuner.store.records import Experiment
from tuner.visualization import FigureOptionError, figure_json
from tuner.visualization.svg import NotDrawable, scatter_svg

logger = logging.getLogger(__name__)


def history_preview(cache: ExperimentCache, record: Experiment) -> str | None:
    """The history figure as SVG markup, or None when this server cannot draw it without waiting."""
    latest = cache.latest(record)
    if latest is None or not figures_imported():
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
