"""The Content-Security-Policy holds in a real browser: no page, the Django admin
included, has anything the policy refuses (inline scripts, inline styles,
handlers). Debian Chromium through Playwright, the CSP enforced (not bypassed)."""

import pytest

from accounts.tests.factories import UserFactory
from posts.tests.factories import PostFactory, SeriesFactory, TagFactory
from posts.tests.test_html_validity import BODY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def strict_page(browser):
    """A page whose CSP violations are collected (the shared context bypasses CSP)."""
    context = browser.new_context(bypass_csp=False)
    page = context.new_page()
    page.violations = []
    page.on(
        "console",
        lambda msg: (
            page.violations.append(f"{page.url}: {msg.text}")
            if "Content Security Policy" in msg.text
            else None
        ),
    )
    yield page
    context.close()


@pytest.fixture
def content(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    tag = TagFactory(name="PostgreSQL", slug="postgresql")
    series = SeriesFactory(slug="indexes")
    post = PostFactory(slug="indexes", body=BODY, tags=[tag], series=series, series_order=1)
    return {"admin": admin, "post": post, "tag": tag}


def visit(page, url: str, status: int = 200) -> None:
    response = page.goto(url)
    assert response is not None and response.status == status, url
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")


def test_reader_pages_break_no_rule_of_the_policy(live_server, strict_page, content):
    for path in ["/", content["post"].get_absolute_url(), "/tags/", "/search/?q=index"]:
        visit(strict_page, live_server.url + path)
    visit(strict_page, live_server.url + "/nothing-here/", 404)

    assert strict_page.violations == [], "\n".join(strict_page.violations)


def test_the_admin_breaks_no_rule_of_the_policy(live_server, strict_page, content):
    page, base = strict_page, live_server.url
    visit(page, f"{base}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    assert page.url == f"{base}/admin/"

    post = content["post"]
    for path in [
        "/admin/",
        "/admin/posts/post/",
        "/admin/posts/post/?status__exact=published",
        "/admin/posts/post/add/",
        f"/admin/posts/post/{post.pk}/change/",
        f"/admin/posts/post/{post.pk}/history/",
        f"/admin/posts/post/{post.pk}/delete/",
        "/admin/posts/tag/",
        f"/admin/posts/tag/{content['tag'].pk}/change/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{content['admin'].pk}/change/",
        f"/admin/accounts/user/{content['admin'].pk}/password/",
        "/admin/accounts/authorprofile/add/",
        "/admin/otp_totp/totpdevice/",
        "/account/two-factor/",
    ]:
        visit(page, base + path)
    # Autocomplete widgets build their markup in JavaScript: open one.
    visit(page, f"{base}/admin/posts/post/{post.pk}/change/")
    page.locator(".select2-selection:visible").first.click()
    page.wait_for_timeout(300)

    assert page.violations == [], "\n".join(page.violations)
