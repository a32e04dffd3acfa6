"""Abuse limits: search rate per client, query length, page numbers, body size.

Each refusal has its exact status (429 with Retry-After, 400, 404, 413), never a 500.
"""

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def posts():
    return PostFactory.create_batch(3, title="Indexes explained")


@pytest.fixture
def three_a_minute(settings):
    """3 searches a minute, counted from zero (counts live in Redis across tests)."""
    from django.core.cache import cache

    cache.clear()
    settings.SEARCH_RATE_LIMIT = "3/m"


def test_searches_over_the_rate_get_a_429_with_retry_after(client, posts, three_a_minute):
    with time_machine.travel("2026-12-01 12:00:30", tick=False):
        for n in range(3):
            assert client.get(f"/search/?q=indexes+{n}").status_code == 200

        refused = client.get("/search/?q=indexes+again")

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["Cache-Control"] == "no-store"
    body = refused.content.decode()
    assert "<h1>Too many requests</h1>" in body
    assert f"wait {refused['Retry-After']} second" in body


def test_the_search_limit_is_per_client_address(client, posts, three_a_minute):
    with time_machine.travel("2026-12-01 12:00:30", tick=False):
        for n in range(4):
            client.get(f"/search/?q=indexes+{n}", REMOTE_ADDR="203.0.113.7")
        assert client.get("/search/?q=x", REMOTE_ADDR="203.0.113.7").status_code == 429

        assert client.get("/search/?q=x", REMOTE_ADDR="198.51.100.2").status_code == 200


def test_the_search_limit_lifts_after_the_window(client, posts, three_a_minute):
    with time_machine.travel("2026-12-01 12:00:30", tick=False) as clock:
        for n in range(4):
            client.get(f"/search/?q=indexes+{n}")
        refused = client.get("/search/?q=later")
        assert refused.status_code == 429

        clock.shift(int(refused["Retry-After"]) + 1)

        assert client.get("/search/?q=later").status_code == 200


def test_cached_results_and_the_empty_search_page_are_not_counted(client, posts, three_a_minute):
    with time_machine.travel("2026-12-01 12:00:30", tick=False):
        assert client.get("/search/?q=indexes")["X-Page-Cache"] == "miss"
        for _ in range(10):
            assert client.get("/search/?q=indexes")["X-Page-Cache"] == "hit"
            assert client.get("/search/").status_code == 200

        assert client.get("/search/?q=two").status_code == 200
        assert client.get("/search/?q=three").status_code == 200
        assert client.get("/search/?q=four").status_code == 429


def test_a_search_query_over_200_characters_is_a_400_with_a_message(client, posts):
    response = client.get("/search/?q=" + "a" * 201)

    assert response.status_code == 400
    body = response.content.decode()
    assert "Search terms can be at most 200 characters long." in body
    assert 'aria-invalid="true"' in body
    assert "a" * 201 not in body


def test_a_search_query_of_200_characters_is_searched(client, posts):
    response = client.get("/search/?q=" + "a" * 200)

    assert response.status_code == 200
    assert "No results for" in response.content.decode()


@pytest.mark.parametrize(
    "value",
    ["abc", "-1", "0", "1.5", "1e3", "%00", "%EF%BC%92", "1" + "0" * 30, "9" * 5000, "100001"],
)
@pytest.mark.parametrize("path", ["/", "/tags/", "/authors/", "/search/?q=indexes&"])
def test_a_page_number_that_cannot_exist_is_a_404(client, posts, path, value):
    joiner = "" if path.endswith("&") else "?"

    response = client.get(f"{path}{joiner}page={value}")

    assert response.status_code == 404


def test_a_body_over_the_request_limit_is_a_413_before_it_is_read(client, settings):
    settings.REQUEST_BODY_MAX_BYTES = 10_000
    upload = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * 20_000, content_type="image/png")

    response = client.post("/admin/login/", {"username": "x", "cover": upload})

    assert response.status_code == 413
    assert "<h1>Request too large</h1>" in response.content.decode()
    assert "(0 MB at most)" not in response.content.decode()


def test_form_data_over_the_field_limit_is_a_413_not_a_400(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000

    response = client.post("/admin/login/", {"username": "x", "password": "p" * 5_000})

    assert response.status_code == 413
    assert "<h1>Request too large</h1>" in response.content.decode()


def test_a_body_within_the_limits_is_handled_as_usual(client):
    response = client.post("/admin/login/", {"username": "x", "password": "p" * 5_000})

    assert response.status_code == 200  # the login form again, with its error
    assert "Please enter the correct username and password" in response.content.decode()


def test_searches_are_let_through_when_the_rate_counter_cannot_be_reached(client, posts, settings):
    """A Redis outage must not turn every search into a 429 (RATELIMIT_FAIL_OPEN)."""
    import socket

    from core.cache.store import get_store

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    redis = settings.CACHES["default"]
    settings.CACHES = {"default": {**redis, "LOCATION": f"redis://127.0.0.1:{dead}/0"}}
    get_store.cache_clear()
    settings.SEARCH_RATE_LIMIT = "1/m"

    statuses = [client.get(f"/search/?q=indexes+{n}").status_code for n in range(3)]

    assert statuses == [200, 200, 200]
    get_store.cache_clear()
