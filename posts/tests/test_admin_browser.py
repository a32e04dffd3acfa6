"""The authoring experience in Debian Chromium: an Author writes, previews, tags and
publishes a post under the real CSP; axe-core checks the admin pages.

Set ADMIN_SCREENSHOTS=1 to also write docs/screenshots/admin-*.png.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from posts import services
from posts.models import Post, Tag
from posts.tests.factories import AuthorFactory, PostFactory, TagFactory
from posts.tests.test_accessibility import axe_violations, describe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
SHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
BODY = """Composite indexes, measured on a real listing.

## The query

```python
def public(self):
    return self.filter(status="published").order_by("-published_at")
```

| Query | Before | After |
| --- | ---: | ---: |
| home page | 120 ms | 3 ms |
| tag page | 95 ms | 2 ms |
"""


def shoot(page, name: str) -> None:
    if os.environ.get("ADMIN_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def writers(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    people = {}
    for handle, name in (("ada", "Ada Lovelace"), ("bob", "Bob Builder")):
        first, last = name.split()
        user = UserFactory(username=handle, first_name=first, last_name=last, is_staff=True)
        user.groups.add(Group.objects.get(name="Authors"))
        people[handle] = AuthorFactory(user=user, handle=handle, display_name=name)
    TagFactory(name="Django", slug="django")
    PostFactory(title="Bob's secret draft", slug="bobs-secret-draft", draft=True,
                authors=[people["bob"]])  # fmt: skip
    PostFactory(title="Indexes for listings", authors=[people["ada"]],
                published_at=timezone.now() - timedelta(days=1))  # fmt: skip
    PostFactory(title="Caching the home page", authors=[people["ada"]], scheduled=True)
    return people


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#dashboard-title")).to_have_text("Your writing")


def pick_tag(page, row: int, text: str) -> None:
    page.locator(f"#post_tags-{row} .select2-selection").click()
    page.locator(".select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()


def test_an_author_writes_previews_tags_and_publishes_a_post(live_server, browser, writers):
    base = live_server.url
    # The real CSP, not bypassed: any refused script or inline handler shows up here.
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    refused = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    sign_in(page, base, "ada")
    shoot(page, "admin-dashboard")

    page.click("text=Write a post")
    expect(page.locator("#id_authorships-0-author")).to_have_value(str(writers["ada"].pk))
    page.fill("#id_title", "Composite indexes, measured")
    page.fill("#id_body", BODY)
    preview = page.locator("#editor-preview")
    expect(preview.locator("h2")).to_have_text("The query")
    expect(preview.locator("pre.highlight code.language-python span.k").first).to_be_visible()
    expect(preview.locator("table td").first).to_have_text("home page")
    expect(page.locator("#editor-stats")).to_contain_text("words")
    expect(page.locator("#prepublish-list")).to_contain_text("Add a summary")

    # Two tags: an existing one from the autocomplete, a new one from the "+" popup.
    page.click("#post_tags-group .add-row a")
    pick_tag(page, 0, "Django")
    page.click("#post_tags-group .add-row a")
    with page.expect_popup() as popup_info:
        page.click("#add_id_post_tags-1-tag")
    popup = popup_info.value
    popup.fill("#id_name", "Query planning")
    popup.click("input[name=_save]")
    popup.wait_for_event("close")
    expect(page.locator("#id_post_tags-1-tag option:checked")).to_have_text("Query planning")

    # Blocked: no summary yet.
    page.click("button[name=_publish]")
    expect(page.locator("#prepublish-checks")).to_contain_text("Add a summary")
    expect(page.locator(".errornote")).to_be_visible()
    shoot(page, "admin-prepublish-problems")
    assert not Post.objects.filter(slug="composite-indexes-measured").exists()
    # The user's text survived the refusal.
    expect(page.locator("#id_body")).to_have_value(re.compile("Composite indexes, measured"))

    page.fill("#id_summary", "How one composite index took a listing from 120 ms to 3 ms.")
    expect(page.locator("#prepublish-list")).to_contain_text("No problems found.")
    page.click("button[name=_publish]")
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    post = Post.objects.get(slug="composite-indexes-measured")
    assert post.is_public
    assert [t.name for t in post.tags.order_by("tag_posts__position")] == [
        "Django",
        "Query planning",
    ]
    assert Tag.objects.filter(name="Query planning").exists()
    shoot(page, "admin-post-list")

    # Bob's draft is neither in Ada's list nor readable at its URL.
    assert page.locator("text=Bob's secret draft").count() == 0
    response = page.goto(f"{base}/posts/bobs-secret-draft/")
    assert response is not None and response.status == 404

    # An anonymous reader sees the post, its code highlighted.
    reader = browser.new_context().new_page()
    response = reader.goto(f"{base}{post.get_absolute_url()}")
    assert response is not None and response.status == 200
    keyword = reader.locator(".prose pre.highlight span.k").first
    expect(keyword).to_have_text("def")
    colours = keyword.evaluate(
        "el => [getComputedStyle(el).color, getComputedStyle(el.closest('pre')).color]"
    )
    assert colours[0] != colours[1], "code is not highlighted"
    assert not refused, refused
    context.close()


def test_the_admin_pages_have_no_serious_accessibility_violations(live_server, page, writers):
    base = live_server.url
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, base, "ada")
    post = Post.objects.get(title="Indexes for listings")
    page.goto(f"{base}/admin/posts/post/{post.pk}/change/")
    page.click("button[name=_continue]")  # a first revision as the post stands
    expect(page.locator(".messagelist .success")).to_be_visible()
    page.fill("#id_title", "Indexes for busy listings")
    page.fill("#id_body", BODY + "\n### A new section\n\nMore text here.\n")
    page.click("button[name=_continue]")
    expect(page.locator(".messagelist .success")).to_be_visible()

    found = {}
    found["post list"] = axe_violations(page, f"{base}/admin/posts/post/")
    found["change form"] = axe_violations(page, f"{base}/admin/posts/post/{post.pk}/change/")
    expect(page.locator("#editor-preview h2")).to_have_text("The query")
    shoot(page, "admin-change-form")
    found["revision compare"] = axe_violations(page, f"{base}/admin/posts/post/{post.pk}/history/")
    expect(page.locator(".compare ins").first).to_be_visible()
    shoot(page, "admin-revision-compare")
    found["dashboard"] = axe_violations(page, f"{base}/admin/")

    problems = "\n".join(f"{name}:\n{describe(v)}" for name, v in found.items() if v)
    assert not problems, problems


def test_unsaved_typing_is_offered_back_after_the_tab_closes(live_server, browser, writers):
    base = live_server.url
    post = Post.objects.get(title="Indexes for listings")
    url = f"{base}/admin/posts/post/{post.pk}/change/"
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "ada")
    page.goto(url)
    page.fill("#id_body", "Typed, never saved.")
    page.wait_for_timeout(1200)  # the draft is kept 0.8 s after the last keystroke
    page.close()  # the tab closes without saving

    page = context.new_page()
    page.goto(url)
    banner = page.locator("#draft-restore")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Restore unsaved changes from")
    page.click("#draft-restore-yes")
    expect(page.locator("#id_body")).to_have_value("Typed, never saved.")
    expect(page.locator("#editor-preview")).to_contain_text("Typed, never saved.")
    post.refresh_from_db()
    assert post.body != "Typed, never saved."  # kept in the browser, not as a revision

    page.click("button[name=_continue]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    page.goto(url)
    expect(page.locator("#id_body")).to_have_value("Typed, never saved.")
    expect(page.locator("#draft-restore")).to_be_hidden()  # cleared by the successful save
    context.close()


def test_tags_are_reordered_with_the_move_buttons(live_server, browser, writers):
    base = live_server.url
    post = Post.objects.get(title="Indexes for listings")
    first, second = TagFactory(name="Alpha"), TagFactory(name="Beta")
    services.post_set_tags(post=post, tags=[first, second])
    page = browser.new_context().new_page()
    sign_in(page, base, "ada")
    page.goto(f"{base}/admin/posts/post/{post.pk}/change/")

    page.locator("#post_tags-0 button[aria-label='Move down']").click()
    expect(page.locator("#id_post_tags-0-position")).to_have_value("1")
    page.click("button[name=_continue]")
    expect(page.locator(".messagelist .success")).to_be_visible()

    assert [r.tag.name for r in post.post_tags.order_by("position")] == ["Beta", "Alpha"]
