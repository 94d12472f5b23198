"""Timeline: each trial as a bar from its start to its end (or now, while it runs), coloured by state."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from tuner.visualization.data import ExperimentData, TrialData
from tuner.visualization.layout import STATE_COLORS, figure, numbers, texts, title
from tuner.visualization.options import DEFAULT_MAX_POINTS
from tuner.visualization.sampling import sample_indices

MIN_WIDTH_SHARE = 300
"""A bar is at least 1/300 of the time axis wide (its hover gives the real duration)."""


def timeline(
    data: ExperimentData,
    *,
    trial_states: tuple[str, ...] | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    now: datetime | None = None,
) -> Any:
    """One trace per state (so the legend filters by state); trials that never started are left out."""
    import plotly.graph_objects as go

    moment = now or datetime.now(timezone.utc)
    started = [
        t for t in data.trials if t.start is not None and (trial_states is None or t.state in trial_states)
    ]
    # keep every unfinished or failed trial first (they are what a reader looks for), then an even sample
    keys = [0.0 if t.state in ("Succeeded", "EarlyStopped") else 1.0 for t in started]
    shown = [started[i] for i in sample_indices(keys, max_points, True)]
    fig = figure(
        title=title(data, "Timeline"),
        xaxis={"title": {"text": "time (UTC)"}, "type": "date"},
        yaxis={"title": {"text": "trial number"}, "autorange": "reversed"},
        barmode="overlay",
        legend={"orientation": "h", "y": -0.2},
    )
    by_state: dict[str, list[TrialData]] = {}
    for trial in shown:
        by_state.setdefault(trial.state, []).append(trial)
    if shown:
        first = min(_ms(t.start) for t in shown)
        last = max(_ms(t.end or moment) for t in shown)
        least = max((last - first) / MIN_WIDTH_SHARE, 1.0)
    for state, trials in by_state.items():
        durations = [_ms(t.end or moment) - _ms(t.start) for t in trials]
        fig.add_trace(
            go.Bar(
                base=texts([_iso(t.start) for t in trials]),
                x=numbers([max(d, least) for d in durations]),  # a trial of milliseconds stays visible
                y=numbers([t.number for t in trials]),
                orientation="h",
                name=f"{state} ({len(trials)})",
                marker={"color": STATE_COLORS.get(state, "#7f7f7f")},
                text=texts([t.name for t in trials]),
                customdata=numbers([d / 1000 for d in durations]),
                hovertemplate="%{text}<br>started %{base}<br>%{customdata:.3f} s<extra></extra>",
                textposition="none",
            )
        )
    return fig


def _ms(moment: datetime | None) -> float:
    assert moment is not None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp() * 1000.0


def _iso(moment: datetime | None) -> str:
    assert moment is not None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds")
