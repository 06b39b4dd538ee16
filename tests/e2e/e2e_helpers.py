"""Browser-suite helpers (fixtures imported by the journey tests): a screenshot of every step, written to ``tests/e2e/artifacts/`` (kept
by CI, ignored by git) when a test fails, or to ``docs/screenshots/`` for the README when
``GOVERNANCE_SCREENSHOTS=1``; and axe-core (vendored from npm) run on a page."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
README_SHOTS = HERE.parent.parent / "docs" / "screenshots"
AXE = HERE / "vendor" / "axe.min.js"


class Steps:
    """Names each step of a journey and keeps its screenshot."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.shots: list[tuple[str, bytes]] = []

    def __call__(self, name: str, *, readme: str | None = None) -> None:
        png = self.page.screenshot(full_page=True)
        self.shots.append((name, png))
        if readme and os.environ.get("GOVERNANCE_SCREENSHOTS"):
            README_SHOTS.mkdir(parents=True, exist_ok=True)
            (README_SHOTS / f"{readme}.png").write_bytes(png)


@pytest.fixture
def steps(request: Any, axe_page: Any) -> Iterator[Steps]:
    page = axe_page
    kept = Steps(page)
    yield kept
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            kept.shots.append(("at-failure", page.screenshot(full_page=True)))
        except Exception:  # noqa: BLE001  (the page may be gone; the earlier steps are kept)
            pass
        for number, (name, png) in enumerate(kept.shots, 1):
            (folder / f"{number:02d}-{name}.png").write_bytes(png)


@pytest.fixture
def axe_page(browser: Any) -> Iterator[Any]:
    """A page with axe-core loaded into every document it opens."""
    context = browser.new_context(accept_downloads=True)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def axe_violations(page: Any, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """Run axe-core on the page; the serious and critical violations, one line each.

    axe is added with ``add_init_script`` (evaluated by the browser before the page's own
    scripts, outside the page's Content-Security-Policy), so the page stays as served.
    """
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v.get("impact") in impacts
    ]
