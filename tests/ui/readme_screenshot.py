"""Retake docs/dashboard.png (the README's screenshot): a 400-trial experiment's page in headless Chromium.

.venv/bin/python tests/ui/readme_screenshot.py docs/dashboard.png
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.ui.conftest import CHROMIUM_ARGS, _serve
from tests.visualization.conftest import build_big


def main(out: str) -> None:
    from playwright.sync_api import sync_playwright

    from tuner.config import Settings
    from tuner.server.app import create_app

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'tuner.db'}"
        build_big(url, trials=400, steps=20, name="resnet-lr-sweep")
        for base in _serve(create_app(Settings(data_dir=Path(folder), store_url=url))):
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport={"width": 1280, "height": 1500})
                page.goto(f"{base}/experiments/default/resnet-lr-sweep")
                page.wait_for_selector("body[data-figures-ready='1']", state="attached", timeout=120_000)
                page.screenshot(path=out)
                browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/dashboard.png")
