"""POST /admin/posts/upload-image/: the editor's body-image upload (posts/images_views.py)."""

import pytest
from PIL import Image

from accounts.tests.factories import UserFactory
from posts.tests.factories import AuthorFactory
from posts.tests.images_helpers import SVG, image_bytes, png_claiming, upload

pytestmark = pytest.mark.django_db
URL = "/admin/posts/upload-image/"


@pytest.fixture
def author_client(client):
    client.force_login(AuthorFactory().user)
    return client


def stored(media_root) -> list[str]:
    return sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file())


def test_an_author_uploads_an_image_and_gets_its_url_markdown_and_size(author_client, media_root):
    response = author_client.post(
        URL,
        {
            "image": upload("Load chart.png", width=1600, height=800),
            "alt": "Load times, before and after",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["url"].startswith("/media/renditions/") and body["url"].endswith("-1440.png")
    assert body["markdown"] == f"![Load times, before and after]({body['url']})"
    assert (body["width"], body["height"]) == (1440, 720)
    files = stored(media_root)
    assert any(f.startswith("uploads/") and f.endswith("/Load_chart.png") for f in files)
    with Image.open(media_root / body["url"].removeprefix("/media/")) as im:
        assert im.size == (1440, 720)


def test_brackets_in_the_alt_text_cannot_break_the_markdown(author_client):
    response = author_client.post(URL, {"image": upload(), "alt": "A [draft] chart"})
    assert response.json()["markdown"].startswith(r"![A \[draft\] chart](")


def test_a_missing_alt_text_is_a_400_and_nothing_is_stored(author_client, media_root):
    response = author_client.post(URL, {"image": upload(), "alt": "   "})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Describe the image (alt text): it is read out to people who cannot see it."
    }
    assert stored(media_root) == []


def test_a_missing_file_is_a_400(author_client):
    response = author_client.post(URL, {"alt": "Chart"})
    assert response.status_code == 400
    assert response.json()["error"].startswith("Choose an image file to upload")


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("photo.png", b"GIF89a? no: plain text pretending" * 10, "This file is not an image."),
        ("logo.svg", SVG, "SVG images are not accepted"),
        ("bomb.png", png_claiming(100_000, 100_000), "This image has too many pixels"),
    ],
    ids=["not-an-image", "svg", "decompression-bomb"],
)
def test_bad_files_are_a_400_with_one_line(author_client, media_root, name, data, error):
    response = author_client.post(URL, {"image": upload(name, data), "alt": "Something"})
    assert response.status_code == 400
    assert response.json()["error"].startswith(error)
    assert "\n" not in response.json()["error"]
    assert stored(media_root) == []


def test_a_file_over_the_limit_is_a_413(author_client, settings, media_root):
    settings.MAX_IMAGE_UPLOAD_BYTES = 1000
    response = author_client.post(
        URL, {"image": upload(data=image_bytes(300, 300, "BMP")), "alt": "Big"}
    )
    assert response.status_code == 413
    assert "the largest accepted is 1000\xa0bytes" in response.json()["error"]
    assert stored(media_root) == []


def test_a_logged_in_reader_who_is_not_staff_gets_a_403(client, media_root):
    client.force_login(UserFactory(is_staff=False))
    response = client.post(URL, {"image": upload(), "alt": "Chart"})
    assert response.status_code == 403
    assert "error" in response.json()
    assert stored(media_root) == []


def test_an_anonymous_visitor_gets_a_403(client):
    assert client.post(URL, {"image": upload(), "alt": "Chart"}).status_code == 403


def test_get_is_not_allowed(author_client):
    assert author_client.get(URL).status_code == 405
