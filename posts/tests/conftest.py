"""Fixtures for the posts tests (the project-wide ones live in the root conftest.py)."""

import os

import pytest

from posts.tests.browser import CHROMIUM, CHROMIUM_ARGS

# Tests use plain static storage (STATICFILES_BACKEND in pytest.ini): the
# manifest storage would need collectstatic first.


@pytest.fixture
def no_page_cache(settings):
    """Query counts and view internals without the page cache answering first."""
    settings.PAGE_CACHE_ENABLED = False


# --- Browser tests (pytest-playwright) ----------------------------------------------
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # The CSP forbids inline scripts, and injected axe-core is one.
    return {**browser_context_args, "bypass_csp": True}


def pytest_collection_modifyitems(config, items):
    """Playwright's sync API keeps an event loop running in the main thread from the first
    browser test on, and Django then refuses ORM calls there (test database setup, seeding,
    assertions) as if they came from async code. Allow them in any run with browser tests."""
    if any(item.get_closest_marker("browser") for item in items):
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
