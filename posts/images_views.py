"""The editor's image upload: `POST /admin/posts/upload-image/` with `image` and `alt`."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.views.decorators.http import require_POST

from posts import images
from posts.permissions import can_edit_post

ALT_MAX_LENGTH = 200


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_POST
def upload_image(request: HttpRequest) -> JsonResponse:
    """Store an image for a post body; answers its URL, size and Markdown to insert."""
    if not can_edit_post(request.user):
        return _error("Sign in with an author or editor account to upload images.", 403)
    upload = request.FILES.get("image")
    if upload is None:
        return _error("Choose an image file to upload (form field “image”).", 400)
    alt = " ".join(request.POST.get("alt", "").split())
    if not alt:
        return _error(
            "Describe the image (alt text): it is read out to people who cannot see it.", 400
        )
    if len(alt) > ALT_MAX_LENGTH:
        return _error(f"Keep the alt text under {ALT_MAX_LENGTH} characters.", 400)
    limit = settings.MAX_IMAGE_UPLOAD_BYTES
    if upload.size > limit:
        return _error(
            f"This image is {filesizeformat(upload.size)}; the largest accepted is "
            f"{filesizeformat(limit)}. Resize or compress it and upload it again.",
            413,
        )
    try:
        stored = images.body_image_store(upload=upload, alt=alt)
    except ValidationError as error:
        return _error(error.messages[0], 400)
    return JsonResponse(
        {
            "url": stored.url,
            "markdown": stored.markdown,
            "width": stored.width,
            "height": stored.height,
        },
        status=201,
    )
