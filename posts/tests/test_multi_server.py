"""Several app servers behind several Varnish nodes, as on more than one machine:
two gunicorn instances sharing one database and one Redis, two Varnish nodes
each balancing over both (round robin). An edit saved through one app server's
admin is fresh on the very next request through every node and every server.
"""

import html
import time

import pytest

from posts.tests.edge import AdminSession, AppServer, Varnish, editor_for_other_processes, free_port
from posts.tests.test_cache import PAGES, admin_post_data
from posts.tests.test_cache import site as site_fixture

pytestmark = pytest.mark.django_db(transaction=True)
site = site_fixture  # the same authors, tags, series and posts as test_cache.py


@pytest.fixture
def cluster(tmp_path_factory):
    """(app servers, Varnish nodes); every app server purges every node."""
    ports = [free_port(), free_port()]
    purge_urls = ",".join(f"http://127.0.0.1:{p}" for p in ports)
    cache_dir = tmp_path_factory.getbasetemp() / "cache"
    apps, nodes = [], []
    try:
        for _ in range(2):
            apps.append(AppServer(cache_dir=cache_dir, workers=1, EDGE_PURGE_URLS=purge_urls))
        for port in ports:
            nodes.append(Varnish([a.address for a in apps], port=port))
        yield apps, nodes
    finally:
        for server in nodes + apps:
            server.close()


def fetch(server, path: str) -> tuple[str, str]:
    status, headers, body = server.get(path)
    assert status == 200, (server.url, path, status)
    return body, headers.get("x-edge-cache") or headers.get("x-page-cache", "")


def test_an_edit_through_one_app_server_is_fresh_through_every_node_and_server(site, cluster):
    apps, nodes = cluster
    editor_for_other_processes()
    pages = [PAGES["home"], PAGES["post"], PAGES["tag"], PAGES["rss"]]
    for server in nodes + apps:
        for path in pages:
            fetch(server, path)
            body, label = fetch(server, path)
            assert label == "hit", (server.url, path)
            assert "Original headline" in body

    status, landed = AdminSession(apps[0].url, "editor").post(
        f"/admin/posts/post/{site.post.pk}/change/",
        admin_post_data(site.post, title="Saved on server one"),
    )
    assert status == 200 and landed.endswith("/admin/posts/post/"), landed

    for server in nodes + apps:
        for path in pages:
            body, _ = fetch(server, path)
            assert html.escape("Saved on server one") in body, (server.url, path)
            assert "Original headline" not in body, (server.url, path)


def test_each_varnish_node_balances_over_both_app_servers(site, cluster):
    apps, nodes = cluster
    for node in nodes:
        for _ in range(4):  # never cached, so every request reaches an app server
            status, headers, _ = node.get("/admin/login/")
            assert (status, headers["x-edge-cache"]) == (200, "pass")

    def served() -> list[int]:
        return [a.access_log.read_text().count("GET /admin/login/") for a in apps]

    deadline = time.monotonic() + 5  # gunicorn writes the access line after the response
    while sum(served()) < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert served() == [4, 4]  # round robin: half of each node's four
