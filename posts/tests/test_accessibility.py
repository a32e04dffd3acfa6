"""Reader pages checked with axe-core in Debian Chromium: no serious or critical violations.

Needs /usr/bin/chromium and node_modules/axe-core (scripts/ensure-browser.sh).
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from posts.tests.factories import AuthorFactory, PostFactory, SeriesFactory, TagFactory

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = {"serious", "critical"}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _browser_installed():
    """Fail, never skip, when the browser or axe-core is missing: `make test` installs both."""
    assert Path("/usr/bin/chromium").exists(), "no /usr/bin/chromium: run scripts/ensure-browser.sh"
    assert AXE.exists(), "axe-core missing: run scripts/ensure-browser.sh"


TABLE_AND_CODE = """Why an index helps, measured.

## Timings

| Query | Before | After |
| --- | ---: | ---: |
| by author | 120 ms | 3 ms |
| by tag | 95 ms | 2 ms |

| Setting | Default | Recommended for a busy multi-author blog | Why it matters |
| --- | --- | --- | --- |
| `shared_buffers` | 128MB | a quarter of the machine's memory | keeps hot index pages in memory |
| `random_page_cost` | 4.0 | 1.1 on solid-state disks | lets the planner choose index scans |

```python
def public(self):
    return self.filter(status="published")
```

```sql
CREATE INDEX post_public_idx ON posts_post (status, published_at DESC);
```

A footnote.[^1]

[^1]: Measured on a laptop.
"""


@pytest.fixture
def content(settings):
    """A small site: co-authored posts with code and tables, tags, a series."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    ada = AuthorFactory(handle="ada", display_name="Ada Lovelace", tagline="Writes about engines")
    grace = AuthorFactory(handle="grace", display_name="Grace Hopper")
    linus = AuthorFactory(handle="linus", display_name="Linus Example")
    postgres, django, perf = (
        TagFactory(name="PostgreSQL", slug="postgresql"),
        TagFactory(name="Django", slug="django"),
        TagFactory(name="Performance", slug="performance"),
    )
    series = SeriesFactory(title="Indexes in practice", slug="indexes-in-practice")
    now = timezone.now()
    post = PostFactory(
        title="Understanding PostgreSQL indexes",
        slug="understanding-postgresql-indexes",
        body=TABLE_AND_CODE,
        authors=[ada, grace],
        tags=[postgres, django, perf],
        series=series,
        series_order=1,
        published_at=now - timedelta(days=2),
    )
    PostFactory(
        title="Covering indexes for listings",
        authors=[grace, ada, linus],
        tags=[postgres, perf],
        series=series,
        series_order=2,
        published_at=now - timedelta(days=1),
    )
    for n in range(12):  # enough for pagination on the home page
        PostFactory(
            authors=[(ada, grace, linus)[n % 3]],
            tags=[(postgres, django, perf)[n % 3]],
            published_at=now - timedelta(days=3 + n),
        )
    PostFactory(title="A draft nobody sees", authors=[ada], draft=True)
    return {"post": post, "tag": postgres, "author": ada, "series": series}


def axe_violations(page, url: str, expected_status: int = 200) -> list[dict]:
    response = page.goto(url)
    assert response is not None and response.status == expected_status, url
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    # An empty violations list must mean "checked and clean", not "nothing ran".
    assert result["testEngine"]["name"] == "axe-core" and result["passes"], url
    return [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:10]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
    return "\n".join(lines)


def page_urls(content) -> dict[str, str]:
    return {
        "home": "/",
        "post": content["post"].get_absolute_url(),
        "tag": content["tag"].get_absolute_url(),
        "author": content["author"].get_absolute_url(),
        "series": content["series"].get_absolute_url(),
        "search": "/search/?q=indexes",
        "tag index": "/tags/",
        "author index": "/authors/",
    }


PAGES = ["home", "post", "tag", "author", "series", "search", "tag index", "author index"]


@pytest.mark.parametrize("name", PAGES)
def test_reader_page_has_no_serious_accessibility_violations(live_server, page, content, name):
    url = live_server.url + page_urls(content)[name]

    violations = axe_violations(page, url)

    assert not violations, f"{name} page ({url}):\n{describe(violations)}"


@pytest.mark.parametrize("name", ["home", "post"])
def test_reader_page_at_phone_width_has_no_serious_accessibility_violations(
    live_server, page, content, name
):
    page.set_viewport_size(PHONE)
    url = live_server.url + page_urls(content)[name]

    violations = axe_violations(page, url)

    assert not violations, f"{name} page at 390 px ({url}):\n{describe(violations)}"
    # Nothing forces sideways scrolling of the whole page on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_search_page_finds_the_post_it_was_asked_for(live_server, page, content):
    page.goto(f"{live_server.url}/search/?q=indexes")

    assert page.get_by_role("link", name="Understanding PostgreSQL indexes").count() >= 1


def test_not_found_page_has_no_serious_accessibility_violations(live_server, page, db):
    url = f"{live_server.url}/no-such-page/"

    violations = axe_violations(page, url, expected_status=404)

    assert not violations, f"404 page:\n{describe(violations)}"
