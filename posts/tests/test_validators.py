import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from posts.models import Post
from posts.tests.factories import AuthorFactory, PostFactory

pytestmark = pytest.mark.django_db


def png(size_px: int = 8) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (size_px, size_px), "teal").save(buffer, "PNG")
    return SimpleUploadedFile("cover.png", buffer.getvalue(), content_type="image/png")


def test_an_oversized_cover_is_refused_with_the_limit_and_nothing_changes(settings, media_root):
    settings.MAX_IMAGE_UPLOAD_BYTES = 50
    post = PostFactory(title="Unchanged")
    post.cover_image, post.cover_alt, post.title = png(), "A teal square", "Changed"
    with pytest.raises(ValidationError) as caught:
        post.full_clean()
    message = caught.value.message_dict["cover_image"][0]
    assert "the largest accepted is 50" in message
    assert Post.objects.get(pk=post.pk).title == "Unchanged"


def test_an_image_under_the_limit_is_accepted(settings, media_root):
    settings.MAX_IMAGE_UPLOAD_BYTES = 5 * 1024 * 1024
    post = PostFactory()
    post.cover_image, post.cover_alt = png(), "A teal square"
    post.full_clean()
    post.save()
    assert Post.objects.get(pk=post.pk).cover_image.name.startswith("covers/")


def test_an_oversized_avatar_is_refused(settings, media_root):
    settings.MAX_IMAGE_UPLOAD_BYTES = 50
    author = AuthorFactory()
    author.avatar, author.avatar_alt = png(), "Portrait"
    with pytest.raises(ValidationError) as caught:
        author.full_clean()
    assert "avatar" in caught.value.message_dict
