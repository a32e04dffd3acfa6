#!/usr/bin/env python3
"""Full-page screenshots of the reader pages at phone and desktop widths.

    .venv/bin/python scripts/screenshots.py http://127.0.0.1:8000 [--out docs/screenshots]

Takes home, a post, a tag, an author and a search page, each at 390 and 1280 px,
into <out>/<page>-<width>.png. The post, tag and author are the first ones linked
from the home page, and the search is for a word of that post's title, so it works
against any site with content (e.g. `make run`, which loads demo content).
Uses Debian's /usr/bin/chromium (scripts/ensure-browser.sh), headless.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from posts.tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 - needs ROOT on the path

WIDTHS = (390, 1280)
PATTERNS = {
    "post": re.compile(r"^/posts/[\w-]+/$"),
    "tag": re.compile(r"^/tags/[\w-]+/$"),
    "author": re.compile(r"^/authors/[\w-]+/$"),
}


def first_link(page: Page, pattern: re.Pattern) -> str | None:
    for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
        path = urlsplit(href).path
        if pattern.match(path):
            return path
    return None


def discover(page: Page, base_url: str) -> dict[str, str]:
    """Paths to shoot, found by following links from the home page and the post."""
    page.goto(base_url + "/")
    paths = {"home": "/"}
    paths["post"] = first_link(page, PATTERNS["post"])
    if paths["post"] is None:
        sys.exit("screenshots: no post linked from the home page; load content first")
    page.goto(urljoin(base_url, paths["post"]))
    for name in ("tag", "author"):
        found = first_link(page, PATTERNS[name])
        if found:
            paths[name] = found
        else:
            print(f"screenshots: no {name} link on {paths['post']}, skipping it", file=sys.stderr)
    words = re.findall(r"[A-Za-z]{4,}", page.locator("h1").first.inner_text())
    paths["search"] = f"/search/?q={quote(words[0] if words else 'the')}"
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url", help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    base_url = args.base_url.rstrip("/")
    args.out.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            paths = discover(browser.new_page(), base_url)
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": 900})
                for name, path in paths.items():
                    response = page.goto(urljoin(base_url + "/", path.lstrip("/")))
                    status = response.status if response else "?"
                    target = args.out / f"{name}-{width}.png"
                    # A full-page shot never scrolls, so lazy images below the fold
                    # would stay blank: load them all first.
                    page.eval_on_selector_all(
                        "img[loading=lazy]", "els => els.forEach(e => (e.loading = 'eager'))"
                    )
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=str(target), full_page=True)
                    print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}"
                          f"  {status}  {path}")  # fmt: skip
                page.close()
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
