"""The dashboard's static files and templates: its own CSS/JS and the plotly bundle of the `plotly` package.

Nothing is loaded from the internet: plotly.min.js is the one the installed plotly ships. URLs carry a
version (`?v=`) so a browser keeps each file a year and fetches it again only after an upgrade.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from tuner._version import __version__

STATIC = Path(str(resources.files("tuner.dashboard") / "static"))
CACHE_FOREVER = "public, max-age=31536000, immutable"
PLOTLY = "plotly.min.js"


@lru_cache(maxsize=1)
def plotly_bundle() -> Path:
    """The plotly.min.js shipped inside the `plotly` Python package."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / PLOTLY


def static_file(name: str) -> Path | None:
    """The file served as `/dashboard-static/{name}`, or None (only the shipped files, no paths)."""
    if name == PLOTLY:
        return plotly_bundle()
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    path = STATIC / name
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def asset_version() -> str:
    """Changes when this package's static files or plotly change (the `?v=` of every asset URL)."""
    import plotly

    digest = hashlib.sha256(f"{__version__}/{plotly.__version__}".encode())
    for path in sorted(STATIC.iterdir()):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tuner.dashboard", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = number_text
    return env


def number_text(value: Any) -> str:
    """A value for a table cell: numbers with 6 significant digits, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return "nan" if value != value else f"{value:.6g}"
    return str(value)


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(asset_version=asset_version(), **context)
