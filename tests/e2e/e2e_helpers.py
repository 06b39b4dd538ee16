"""axe-core in the browser suite: ``axe_violations(page)`` on a page opened by the
``axe_page`` fixture (``tests/conftest.py``), which loads ``vendor/axe.min.js`` (vendored from
npm) into every document."""

from __future__ import annotations

from typing import Any


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
