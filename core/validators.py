from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat


def validate_image_size(upload) -> None:
    """Refuse images over MAX_IMAGE_UPLOAD_BYTES with a message saying the limit."""
    limit = settings.MAX_IMAGE_UPLOAD_BYTES
    # Only a new upload is measured (an uploaded file, or a field's newly assigned
    # file): a stored file was checked when it arrived.
    if upload and not getattr(upload, "_committed", False) and upload.size > limit:
        raise ValidationError(
            f"This image is {filesizeformat(upload.size)}; the largest accepted is "
            f"{filesizeformat(limit)}. Resize or compress it and upload it again.",
            code="image_too_large",
        )
