"""The dashboard in a real headless Chromium: every page loads with no JS error and no external request,
figures draw the store's points, the trial table filters, sorts and exports, submit shows problems at their
field and starts valid experiments, a running experiment's page follows it, auth sends a browser to /login,
and the theme toggles. Waits are on ready markers the pages set (`data-figures-ready`, ...), never on time.
"""

from __future__ import annotations

import csv
import io
import re
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.server.conftest import trial_experiment
from tests.ui.conftest import (
    OTHER,
    SEEDED,
    SEEDED_TRIALS,
    STEPS,
    TOKEN,
    LiveServer,
    assert_clean,
    open_page,
    shoot,
)
from tuner.visualization import load_experiment_data

pytestmark = pytest.mark.ui
pw = pytest.importorskip("playwright.sync_api")
expect = pw.expect
WAIT = 60_000  # ms: the longest a ready marker may take on a loaded 2-core machine (never a sleep)


def _open(page: Any, url: str, marker: str | None = None) -> None:
    page.goto(url)
    if marker:
        page.wait_for_selector(f"body[data-{marker}='1']", state="attached", timeout=WAIT)


def test_experiments_list_filters_and_links(page: Any, live_server: LiveServer) -> None:
    _open(page, live_server.url + "/")
    rows = page.locator("#experiments tbody tr")
    for name in (SEEDED, OTHER):  # other tests may have submitted more by now
        expect(page.locator(f'tr[data-ref="default/{name}"]')).to_have_count(1)
    expect(page.locator(f'tr[data-ref="default/{SEEDED}"] [data-field="state"]')).to_have_text("Succeeded")
    page.fill("#filter-text", "oth")
    page.click("form.toolbar button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-ref", f"default/{OTHER}")
    shoot(page, "experiments")
    assert_clean(page)


def test_experiment_page_draws_every_figure_with_the_stores_points(
    page: Any, live_server: LiveServer
) -> None:
    data = load_experiment_data(live_server.store_url, SEEDED)
    scored = [t for t in data.trials if t.metrics.get("accuracy") is not None]
    _open(page, f"{live_server.url}/experiments/default/{SEEDED}", "figures-ready")
    page.wait_for_selector("body[data-table-ready='1']", state="attached", timeout=WAIT)
    figures = page.locator(".figure[data-kind]")
    kinds = figures.evaluate_all("els => els.map(e => [e.dataset.kind, e.dataset.drawn])")
    assert {k for k, _ in kinds} == {
        "history",
        "parallel",
        "slice",
        "contour",
        "importance",
        "edf",
        "intermediate",
        "pareto",
        "timeline",
    }
    assert all(drawn == "1" for _, drawn in kinds), kinds
    # one SVG marker per trial in the history's first trace, as many as the store has scored trials
    markers = page.locator("#fig-history .scatterlayer .trace").first.locator("path.point")
    expect(markers).to_have_count(len(scored))
    history_x = page.evaluate("() => document.getElementById('fig-history').data[0].x.length")
    assert history_x == len(scored)
    dims = page.evaluate("() => document.getElementById('fig-parallel').data[0].dimensions.length")
    assert dims == 1 + len(data.parameters)  # the metric and each parameter
    # learning curves: one trace per state, trials separated by gaps; every stored point is drawn
    drawn = page.evaluate(
        "() => document.getElementById('fig-intermediate').data.flatMap(t => t.y).filter(v => v !== null).length"
    )
    assert drawn == sum(t.points.get("accuracy", 0) for t in data.trials) == SEEDED_TRIALS * STEPS
    # the best-trial card names the store's best
    best = max(scored, key=lambda t: t.metrics["accuracy"])
    expect(page.locator("#best-trial-link")).to_have_text(best.name)
    expect(page.locator("#trials tbody tr")).to_have_count(SEEDED_TRIALS)
    # the y axis of the history on a log scale, then linear, on request
    page.select_option('.figure-tools[data-for="history"] select[data-option="log_y"]', "true")
    page.wait_for_selector("body[data-figures-ready='1']", state="attached", timeout=WAIT)
    assert page.evaluate("() => document.getElementById('fig-history').layout.yaxis.type") == "log"
    page.select_option('.figure-tools[data-for="history"] select[data-option="log_y"]', "false")
    page.wait_for_selector("body[data-figures-ready='1']", state="attached", timeout=WAIT)
    assert page.evaluate("() => document.getElementById('fig-history').layout.yaxis.type") == "linear"
    shoot(page, "experiment")
    assert_clean(page)


def test_history_preview_is_on_screen_before_any_script_runs(
    browser: Any, page: Any, live_server: LiveServer
) -> None:
    """Once this server holds the experiment, the page's HTML carries the optimisation history as SVG (the
    figure shows before plotly.js is parsed): a browser with JavaScript off paints it, and with JavaScript
    plotly's interactive figure takes its place."""
    url = f"{live_server.url}/experiments/default/{SEEDED}"
    _open(page, url, "figures-ready")  # the server now holds the experiment (the preview never waits for it)
    html = httpx.get(url, timeout=WAIT / 1000).text
    assert 'class="figure-preview"' in html
    _open(page, url, "figures-ready")
    expect(page.locator("#fig-history .figure-preview")).to_have_count(0)  # replaced, not left under it
    assert page.evaluate("() => document.getElementById('fig-history').data.length") == 2

    scored = [
        t for t in load_experiment_data(live_server.store_url, SEEDED).trials if "accuracy" in t.metrics
    ]
    context, still = open_page(browser, java_script_enabled=False)
    try:
        still.goto(url)
        preview = still.locator("#fig-history svg.figure-preview")
        expect(preview).to_be_visible()
        assert preview.get_attribute("aria-label") == "Optimisation history (preview)"
        assert (preview.bounding_box() or {}).get("width", 0) > 300
        dots = preview.locator('path[stroke-linecap="round"]').get_attribute("d") or ""
        assert 0 < dots.count("h0") <= len(scored)  # a dot per trial, fewer where two share a pixel
        shoot(still, "experiment-preview")
        assert_clean(still)
    finally:
        context.close()


def test_trial_table_filters_sorts_and_exports_csv(page: Any, live_server: LiveServer) -> None:
    data = load_experiment_data(live_server.store_url, SEEDED)
    _open(page, f"{live_server.url}/experiments/default/{SEEDED}", "table-ready")
    rows = page.locator("#trials tbody tr")
    expected = [t for t in data.trials if t.params["layers"] > 4 and t.params["optimizer"] == "adam"]
    page.evaluate("() => { document.body.dataset.tableReady = '0'; }")
    page.fill("#trial-filter", "layers>4, optimizer=adam")
    page.click("#apply-filter")
    page.wait_for_selector("body[data-table-ready='1']", state="attached", timeout=WAIT)
    expect(rows).to_have_count(len(expected))
    # sort by accuracy, twice: descending; the first row is the best of the filtered trials
    header = page.locator('#trials th[data-sort="metric:accuracy"]')
    header.click()
    expect(page.locator('#trials th[data-sort="metric:accuracy"]')).to_have_attribute(
        "aria-sort", "ascending"
    )
    page.locator('#trials th[data-sort="metric:accuracy"]').click()
    expect(page.locator('#trials th[data-sort="metric:accuracy"]')).to_have_attribute(
        "aria-sort", "descending"
    )
    top = max(expected, key=lambda t: t.metrics["accuracy"])
    expect(rows.first).to_have_attribute("data-trial", top.name)
    # the CSV export is the filtered, sorted table
    href = page.locator("#csv-export").get_attribute("href")
    reply = page.request.get(live_server.url + href if href.startswith("/") else href)
    table = list(csv.DictReader(io.StringIO(reply.text())))
    assert table[0]["name"] == top.name
    assert sorted(r["name"] for r in table) == sorted(t.name for t in expected)
    assert {r["optimizer"] for r in table} == {"adam"}
    # a bad condition is shown at the filter box
    page.fill("#trial-filter", "nope<1")
    page.click("#apply-filter")
    expect(page.locator("#filter-error")).to_contain_text("'nope'")
    shoot(page, "trial-table")
    assert page.external_requests == []


def test_trial_page_shows_parameters_series_and_decisions(page: Any, live_server: LiveServer) -> None:
    trial = f"{SEEDED}-000003"
    _open(page, f"{live_server.url}/experiments/default/{SEEDED}/trials/{trial}", "figures-ready")
    expect(page.locator("#parameters tr")).to_have_count(3)
    expect(page.locator("#trial-state")).to_have_text("Succeeded")
    counts = page.evaluate("() => document.getElementById('fig-series').data.map(t => [t.name, t.x.length])")
    assert dict(counts) == {"accuracy": STEPS, "loss": 1}
    expect(page.locator("#decisions tbody")).to_contain_text("No early-stopping decision")
    page.wait_for_selector("body[data-log-ready='1']", state="attached")
    assert_clean(page)


def test_compare_two_experiments(page: Any, live_server: LiveServer) -> None:
    _open(page, f"{live_server.url}/", None)
    for name in (SEEDED, OTHER):
        page.check(f'tr[data-ref="default/{name}"] input[type=checkbox]')
    page.click("#compare-selected")
    page.wait_for_selector("body[data-figures-ready='1']", state="attached", timeout=WAIT)
    assert "e=default%2Fseeded" in page.url
    expect(page.locator("#compare-table tbody tr")).to_have_count(2)
    names = page.evaluate("() => document.getElementById('fig-compare').data.map(t => t.name)")
    assert sorted(names) == [f"default/{OTHER}", f"default/{SEEDED}"]
    shoot(page, "compare")
    assert_clean(page)


def _bad_experiment(name: str) -> str:
    document = trial_experiment(name, "print('loss=1')", max_trials=2, parallel=1)
    document["spec"]["maxTrialCount"] = -3
    return yaml.safe_dump(document, sort_keys=False)


def test_submit_shows_problems_at_their_field_then_starts_a_valid_one(
    page: Any, live_server: LiveServer
) -> None:
    _open(page, live_server.url + "/submit")
    text = _bad_experiment("from-the-form")
    page.fill("#experiment-yaml", text)
    page.click("#submit-button")
    error = page.locator('.field-error.inline[data-field="spec.maxTrialCount"]')
    expect(error).to_contain_text("greater than 0")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.strip().startswith("maxTrialCount"))
    expect(page.locator(f"#line-{line}")).to_have_class(re.compile("has-error"))
    # the message sits right under the field's line
    assert (
        page.evaluate(f"() => document.getElementById('line-{line}').nextElementSibling.dataset.field")
        == "spec.maxTrialCount"
    )
    shoot(page, "submit-errors")
    page.fill("#experiment-yaml", text.replace("maxTrialCount: -3", "maxTrialCount: 1"))
    page.click("#submit-button")
    page.wait_for_url(re.compile(r"/experiments/default/from-the-form$"), timeout=WAIT)
    reply = httpx.get(f"{live_server.url}/api/v1/experiments/default/from-the-form")
    assert reply.status_code == 200 and reply.json()["spec"]["maxTrialCount"] == 1
    assert_clean(page)


def test_live_update_follows_a_running_experiment(page: Any, live_server: LiveServer, tmp_path: Path) -> None:
    gate = tmp_path / "go"
    script = textwrap.dedent(
        f"""
        import os, time
        while not os.path.exists({str(gate)!r}):
            time.sleep(0.02)
        print('loss=' + str(float(args['x']) ** 2))
        """
    )
    document = trial_experiment("live", script, max_trials=3, parallel=3)
    assert httpx.post(f"{live_server.url}/api/v1/experiments", json=document).status_code == 201
    _open(page, f"{live_server.url}/experiments/default/live", "table-ready")
    expect(page.locator("#live-status")).to_have_text("live")  # the page follows it while it runs
    gate.write_text("go")  # the trials may finish now
    expect(page.locator("#exp-state")).to_have_text("Succeeded", timeout=WAIT)
    page.wait_for_selector("body[data-live-done='1']", state="attached", timeout=WAIT)
    expect(page.locator("#trials tbody tr")).to_have_count(3)
    expect(page.locator("#trial-count")).to_have_text("3")
    expect(page.locator("#trials tbody .state-Succeeded")).to_have_count(3)
    # a trial run by the server has a log with its metric line
    page.locator("#trials tbody tr a").first.click()
    page.wait_for_selector("body[data-log-ready='1']", state="attached", timeout=WAIT)
    expect(page.locator("#trial-log")).to_contain_text("loss=")
    assert_clean(page)


def test_pipeline_runs_and_run_page(page: Any, live_server: LiveServer) -> None:
    _open(page, live_server.url + "/pipelines")
    page.click("#runs a")
    page.wait_for_selector("body[data-lineage-ready='1']", state="attached", timeout=WAIT)
    expect(page.locator("#dag g.node")).to_have_count(2)
    expect(page.locator('#dag g.node[data-task="train"]')).to_have_class(re.compile("state-Succeeded"))
    page.locator('#dag g.node[data-task="train"]').click()
    expect(page.locator("#task-table")).to_contain_text('{"rows": 42}'.replace(" ", ""))
    expect(page.locator("#lineage-table tbody tr")).not_to_have_count(0)
    shoot(page, "run")
    assert_clean(page)


def test_theme_toggle_switches_and_persists(page: Any, live_server: LiveServer) -> None:
    _open(page, live_server.url + "/")
    background = "() => getComputedStyle(document.body).backgroundColor"
    before = page.evaluate(background)
    theme = page.evaluate("() => document.body.dataset.theme")
    page.click("#theme-toggle")
    flipped = "light" if theme == "dark" else "dark"
    expect(page.locator("html")).to_have_attribute("data-theme", flipped)
    assert page.evaluate(background) != before
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", flipped)
    shoot(page, f"theme-{flipped}")
    # figures follow the toggle: their text colour changes with the page's
    _open(page, f"{live_server.url}/experiments/default/{OTHER}", "figures-ready")
    font = "() => document.getElementById('fig-history').layout.font.color"
    drawn_with = page.evaluate(font)
    shoot(page, f"experiment-{flipped}")
    page.click("#theme-toggle")
    expect(page.locator("html")).to_have_attribute("data-theme", theme if theme else "light")
    page.wait_for_function(
        f"() => document.getElementById('fig-history').layout.font.color !== {drawn_with!r}"
    )
    shoot(page, f"experiment-{theme}")
    assert_clean(page)


def test_login_redirect_with_auth(page: Any, auth_server: str) -> None:
    page.goto(auth_server + "/pipelines")
    assert re.search(r"/login\?next=/pipelines$", page.url), page.url
    assert httpx.get(auth_server + "/").status_code == 401  # an API client still gets the 401 problem
    page.fill("#token", "tuner_wrong")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_be_visible()
    page.js_errors.clear()  # the refused login is a 401 the console reports: expected here
    page.fill("#token", TOKEN)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r"/pipelines$"))
    expect(page.locator("#user")).to_have_text("ui-admin")
    assert_clean(page)
