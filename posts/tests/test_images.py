"""The image check (core/images.py), renditions made once, and srcset on reader pages."""

import io
import re

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.forms import modelform_factory
from PIL import Image

from accounts.models import AuthorProfile
from core.images import inspect_image
from posts import services
from posts.models import Post
from posts.tests.admin_client import form_data
from posts.tests.factories import AuthorFactory, PostFactory
from posts.tests.images_helpers import SVG, image_bytes, png_claiming, upload

pytestmark = pytest.mark.django_db


def rendition_files(media_root) -> dict[str, float]:
    folder = media_root / "renditions"
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} if folder.exists() else {}


def check_message(file) -> str:
    with pytest.raises(ValidationError) as caught:
        inspect_image(file)
    return caught.value.messages[0]


# --- The check -------------------------------------------------------------------------


def test_a_real_png_passes_with_its_format_and_size():
    info = inspect_image(upload(width=64, height=32))
    assert (info.format, info.width, info.height) == ("PNG", 64, 32)


def test_bytes_that_are_not_an_image_are_refused_even_when_named_png():
    message = check_message(upload("photo.png", b"PK\x03\x04 this is a zip, not a picture" * 20))
    assert message == "This file is not an image. Upload a JPEG, PNG, GIF or WebP file."


def test_an_svg_is_refused_whatever_its_name():
    for name in ("logo.svg", "logo.png"):
        assert check_message(upload(name, SVG)).startswith("SVG images are not accepted")


def test_an_image_over_the_byte_limit_is_refused_naming_the_limit(settings):
    settings.MAX_IMAGE_UPLOAD_BYTES = 100
    message = check_message(upload(width=200, height=200, fmt="BMP"))
    assert "the largest accepted is 100\xa0bytes" in message


def test_a_png_header_claiming_ten_billion_pixels_is_refused_as_a_bomb():
    message = check_message(upload("bomb.png", png_claiming(100_000, 100_000)))
    assert message.startswith("This image has too many pixels (the limit is 89,478,485)")


def test_pillows_bomb_warning_counts_as_an_error_too(monkeypatch):
    # Over MAX_IMAGE_PIXELS but under twice it: Pillow only warns; we refuse.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert "too many pixels (the limit is 1,000)" in check_message(upload(width=40, height=40))


def test_a_format_browsers_do_not_show_everywhere_is_refused_by_name():
    message = check_message(upload("scan.bmp", image_bytes(8, 8, "BMP")))
    assert message == "BMP images are not accepted. Upload a JPEG, PNG, GIF or WebP file."


def test_a_truncated_png_is_refused_as_damaged():
    data = image_bytes(200, 200, colour="red")
    assert "damaged" in check_message(upload("cut.png", data[: len(data) // 2]))


def test_the_admin_form_field_shows_the_precise_message():
    Form = modelform_factory(Post, fields=["title", "slug", "cover_image", "cover_alt"])
    form = Form(
        data={"title": "T", "slug": "t", "cover_alt": "A logo"},
        files={"cover_image": upload("logo.svg", SVG)},
    )
    assert not form.is_valid()
    assert form.errors["cover_image"][0].startswith("SVG images are not accepted")
    assert 'accept="image/jpeg,image/png,image/gif,image/webp"' in str(form["cover_image"])


def test_full_clean_refuses_a_non_image_cover_through_the_service():
    post = PostFactory()
    post.cover_image, post.cover_alt = upload("x.png", b"not an image at all"), "Alt"
    with pytest.raises(ValidationError) as caught:
        services.post_save(post=post)
    assert caught.value.message_dict["cover_image"] == [
        "This file is not an image. Upload a JPEG, PNG, GIF or WebP file."
    ]


# --- Renditions ------------------------------------------------------------------------


def test_a_new_cover_gets_webp_renditions_and_one_in_its_own_format(media_root):
    post = PostFactory()
    post.cover_image, post.cover_alt = (
        upload("wide.png", width=2000, height=1000),
        "A wide teal box",
    )
    services.post_save(post=post)
    record = Post.objects.get(pk=post.pk).cover_renditions
    assert (record["width"], record["height"], record["widths"]) == (2000, 1000, [480, 960, 1440])
    prefix = record["prefix"].split("/")[1]
    sizes = {}
    for name in rendition_files(media_root):
        with Image.open(media_root / "renditions" / name) as im:
            sizes[name.removeprefix(prefix)] = (im.format, im.size)
    assert sizes == {
        "-480.webp": ("WEBP", (480, 240)),
        "-960.webp": ("WEBP", (960, 480)),
        "-1440.webp": ("WEBP", (1440, 720)),
        "-1440.png": ("PNG", (1440, 720)),
    }


def test_renditions_are_made_once_per_image(media_root, monkeypatch):
    post = PostFactory()
    post.cover_image, post.cover_alt = upload(width=1000, height=500), "Teal"
    services.post_save(post=post)
    first = rendition_files(media_root)
    assert len(first) == 3  # 480 and 960 WebP, 960 PNG: never wider than the original
    calls = []
    monkeypatch.setattr("core.images.make_renditions", lambda *a, **k: calls.append(a))
    post.title = "Edited"
    services.post_save(post=post)
    services.post_save(post=Post.objects.get(pk=post.pk))
    assert calls == []
    assert rendition_files(media_root) == first


def test_the_same_picture_on_another_post_reuses_the_files(media_root):
    data = image_bytes(900, 450)
    one, two = PostFactory(), PostFactory()
    for post in (one, two):
        post.cover_image, post.cover_alt = upload("same.png", data), "Teal"
        services.post_save(post=post)
    assert len(rendition_files(media_root)) == 2  # 480 WebP, 480 PNG
    one.refresh_from_db(), two.refresh_from_db()
    assert one.cover_image.name != two.cover_image.name
    assert one.cover_renditions["prefix"] == two.cover_renditions["prefix"]


def test_a_small_image_is_never_upscaled(media_root):
    post = PostFactory()
    post.cover_image, post.cover_alt = upload(width=300, height=200), "Small"
    services.post_save(post=post)
    assert Post.objects.get(pk=post.pk).cover_renditions["widths"] == [300]
    assert sorted(n.split("-")[1] for n in rendition_files(media_root)) == ["300.png", "300.webp"]


def test_an_animated_gif_is_served_as_uploaded(client, media_root):
    frames = [Image.new("RGB", (600, 300), colour) for colour in ("red", "blue", "green")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    post = PostFactory()
    post.cover_image, post.cover_alt = upload("spin.gif", out.getvalue()), "A spinner"
    services.post_save(post=post)
    assert post.cover_renditions["widths"] == [] and rendition_files(media_root) == {}
    html = client.get(post.get_absolute_url()).content.decode()
    picture = next(p for p in img_tags(html) if "A spinner" in p)
    assert f'src="{post.cover_image.url}"' in picture and "srcset" not in picture
    assert 'width="600" height="300"' in picture


def test_removing_the_cover_clears_its_record(media_root):
    post = PostFactory()
    post.cover_image, post.cover_alt = upload(), "Teal"
    services.post_save(post=post)
    post.cover_image, post.cover_alt = None, ""
    services.post_save(post=post)
    assert Post.objects.get(pk=post.pk).cover_renditions == {}


def test_an_avatar_gets_avatar_sized_renditions(media_root):
    author = AuthorFactory()
    author.avatar, author.avatar_alt = upload("me.jpg", image_bytes(500, 500, "JPEG")), "Me"
    services.author_save(author=author)
    record = AuthorProfile.objects.get(pk=author.pk).avatar_renditions
    assert (record["widths"], record["format"]) == ([96, 192, 384], "jpg")


# --- Reader pages ----------------------------------------------------------------------


def covered_post(**kwargs) -> Post:
    post = PostFactory(**kwargs)
    post.cover_image, post.cover_alt = upload(width=1600, height=840), f"Cover of {post.title}"
    return services.post_save(post=post)


def img_tags(html: str) -> list[str]:
    return re.findall(r"<picture.*?</picture>", html, re.S)


def test_the_post_page_cover_has_srcset_sizes_dimensions_and_high_priority(client):
    post = covered_post()
    html = client.get(post.get_absolute_url()).content.decode()
    picture = next(p for p in img_tags(html) if "Cover of" in p)
    prefix = post.cover_renditions["prefix"]
    assert (
        f'<source type="image/webp" srcset="/media/{prefix}-480.webp 480w, '
        f'/media/{prefix}-960.webp 960w, /media/{prefix}-1440.webp 1440w" '
        f'sizes="(min-width: 60rem) 56rem, 100vw">'
    ) in picture
    assert f'src="/media/{prefix}-1440.png"' in picture
    assert 'width="1600" height="840"' in picture
    assert 'fetchpriority="high"' in picture and 'loading="lazy"' not in picture
    # Link previews get the JPEG/PNG rendition, not a camera-sized original.
    assert (
        f'<meta property="og:image" content="http://127.0.0.1:8000/media/{prefix}-1440.png">'
        in html
    )


def test_cards_have_srcset_and_only_the_first_screenful_loads_eagerly(client):
    posts = [covered_post(title=f"Card {n}") for n in range(3)]
    html = client.get("/").content.decode()
    covers = [p for p in img_tags(html) if 'class="card__cover"' in p]
    assert len(covers) == 3
    assert all(
        'srcset="/media/renditions/' in c and 'width="1600" height="840"' in c for c in covers
    )
    assert ['loading="lazy"' in c for c in covers] == [False, True, True]
    assert f'alt="Cover of {posts[-1].title}"' in covers[0]  # newest first


def test_the_author_page_shows_the_avatar_from_its_renditions(client):
    author = AuthorFactory(display_name="Ada Example")
    author.avatar, author.avatar_alt = upload("ada.png", width=400, height=400), "Ada smiling"
    services.author_save(author=author)
    PostFactory(authors=[author])
    html = client.get(author.get_absolute_url()).content.decode()
    avatar = next(p for p in img_tags(html) if "Ada smiling" in p)
    assert "-96.webp 96w" in avatar and 'sizes="96px"' in avatar
    assert 'width="96" height="96"' in avatar


# --- The admin -------------------------------------------------------------------------


def admin_add_post(client, cover):
    author = AuthorFactory()
    author.user.groups.add(Group.objects.get(name="Authors"))
    client.force_login(author.user)
    data = form_data(
        title="With a cover",
        slug="with-a-cover",
        body="Hello",
        cover_image=cover,
        cover_alt="A teal rectangle",
    )
    return client.post("/admin/posts/post/add/", data)


def test_the_admin_refuses_an_svg_cover_with_the_reason(client):
    response = admin_add_post(client, upload("logo.svg", SVG))
    assert response.status_code == 200
    assert "SVG images are not accepted (they can carry scripts)." in response.content.decode()
    assert not Post.objects.filter(slug="with-a-cover").exists()


def test_a_cover_saved_in_the_admin_gets_its_renditions(client, media_root):
    response = admin_add_post(client, upload(width=1000, height=500))
    assert response.status_code == 302, response.content.decode()[:3000]
    post = Post.objects.get(slug="with-a-cover")
    assert post.cover_renditions["widths"] == [480, 960]
    assert len(rendition_files(media_root)) == 3
