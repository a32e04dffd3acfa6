"""Uploaded images: one check that a file really is an image we serve, and the
resized renditions the reader pages offer in `srcset`.

Renditions are named by the original's content hash (`renditions/<hash>-<width>.<ext>`),
so the same picture uploaded twice, or reused by many posts, is resized once.
What was made is returned as a small dict that the owning row stores beside the
file (`Post.cover_renditions`, `AuthorProfile.avatar_renditions`), so listing
pages build `srcset` without touching storage.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage
from django.db import models
from django.utils.encoding import filepath_to_uri

from core.validators import validate_image_size

if TYPE_CHECKING:
    from PIL import Image

# Pillow is imported where images are read or made (uploads, renditions), not at
# import: a worker serving readers only builds URLs from stored records (~3 MB).

logger = logging.getLogger(__name__)

# Formats a browser shows everywhere; anything else is refused rather than converted.
ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
MIME_BY_EXT = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
ACCEPTED_LABEL = "JPEG, PNG, GIF or WebP"
COVER_WIDTHS = (480, 960, 1440)
AVATAR_WIDTHS = (96, 192, 384)
RENDITIONS_DIR = "renditions"
WEBP_QUALITY = 80
WEBP_METHOD = 3  # 4+ costs twice the time for ~5% fewer bytes
JPEG_QUALITY = 85
ORIENTATION_TAG = 0x0112  # EXIF: a phone photo stored sideways says so here


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int


def _looks_like_svg(head: bytes, name: str) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return (
        name.lower().endswith((".svg", ".svgz"))
        or text.startswith(b"<svg")
        or (text.startswith(b"<?xml") and b"<svg" in text)
        or (text.startswith(b"<!doctype svg"))
    )


def _open_checked(data: io.BytesIO | Any) -> Image.Image:
    """Image.open with Pillow's decompression-bomb warning raised as an error."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(data)


def inspect_image(upload) -> ImageInfo:
    """Check that `upload` (an uploaded or stored file) is an image we accept.

    Raises ValidationError with one line saying what is wrong: too many bytes,
    SVG, not an image, an unaccepted format, too many pixels, or a damaged file.
    """
    from PIL import Image, UnidentifiedImageError

    validate_image_size(upload)
    name = getattr(upload, "name", "") or ""
    upload.seek(0)
    head = upload.read(1024)
    upload.seek(0)
    if _looks_like_svg(head, name):
        raise ValidationError(
            "SVG images are not accepted (they can carry scripts). "
            f"Export it as {ACCEPTED_LABEL} and upload that.",
            code="image_svg",
        )
    try:
        image = _open_checked(upload)
        info = ImageInfo(image.format or "", *image.size)
        if info.format in ACCEPTED_FORMATS:
            image.verify()  # reads the whole file: catches truncated or corrupt data
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            f"This image has too many pixels (the limit is {Image.MAX_IMAGE_PIXELS:,}). "
            "Resize it and upload it again.",
            code="image_too_many_pixels",
        ) from None
    except UnidentifiedImageError:
        raise ValidationError(
            f"This file is not an image. Upload a {ACCEPTED_LABEL} file.", code="image_invalid"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(
            f"This image is damaged and cannot be read ({exc}). Save it again and re-upload it.",
            code="image_damaged",
        ) from None
    finally:
        upload.seek(0)
    if info.format not in ACCEPTED_FORMATS:
        raise ValidationError(
            f"{info.format or 'This'} images are not accepted. Upload a {ACCEPTED_LABEL} file.",
            code="image_format",
        )
    return info


def validate_image(upload) -> None:
    """Model/form validator: a new upload must pass `inspect_image`."""
    # A file already stored was checked when it arrived; only new uploads are opened.
    if not upload or getattr(upload, "_committed", False):
        return
    inspect_image(upload)


class ImageUploadFormField(forms.FileField):
    """A file field that reports `inspect_image`'s precise message, where Django's
    ImageField would say only "not a valid image" for an SVG or a decompression bomb."""

    def to_python(self, data):
        upload = super().to_python(data)
        if upload is None:
            return None
        try:
            info = inspect_image(upload)
        except ValidationError as error:
            raise ValidationError(error.messages[0], code=error.code) from None
        from PIL import Image

        upload.content_type = Image.MIME.get(info.format)
        return upload

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.FileInput) and "accept" not in widget.attrs:
            attrs.setdefault("accept", "image/jpeg,image/png,image/gif,image/webp")
        return attrs


class CheckedImageField(models.ImageField):
    """An ImageField whose uploads pass `inspect_image` in forms and in full_clean()."""

    default_validators = [validate_image]

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": ImageUploadFormField, **kwargs})


# --- Renditions ------------------------------------------------------------------------


def _content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20]


def _rgb(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image has transparency: what resizing and WebP want."""
    if image.mode in ("RGB", "RGBA"):
        return image
    transparent = image.mode in ("LA", "PA") or "transparency" in image.info
    return image.convert("RGBA" if transparent else "RGB")


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "WEBP":
        image.save(out, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    elif fmt == "JPEG":
        image.convert("RGB").save(
            out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True
        )
    else:
        image.save(out, fmt, optimize=True)
    return out.getvalue()


def _target_widths(width: int, widths: tuple[int, ...]) -> list[int]:
    # Never upscale: a small original gets one rendition at its own width.
    return [w for w in widths if w <= width] or [width]


def renditions_list(data: dict) -> list[dict[str, Any]]:
    """The files a renditions record names: WebP at each width, then the fallback
    in the original format at the largest width. None for an animated image."""
    if not data or not data["widths"]:
        return []
    width, height, prefix = data["width"], data["height"], data["prefix"]
    items = [(w, "webp") for w in data["widths"]] + [(data["widths"][-1], data["format"])]
    return [
        {
            "name": f"{prefix}-{w}.{ext}",
            "width": w,
            "height": max(1, round(height * w / width)),
            "type": MIME_BY_EXT[ext],
        }
        for w, ext in items
    ]


def make_renditions(
    storage: Storage, name: str, *, widths: tuple[int, ...] = COVER_WIDTHS
) -> dict[str, Any]:
    """Resize the stored image `name`: WebP at each of `widths` not wider than the
    original, plus one in the original format at the largest of them. Files already
    there (same content hash) are reused. Returns the record a row stores: small,
    because every listing query reads it."""
    from PIL import Image, ImageOps

    with storage.open(name, "rb") as fh:
        data = fh.read()
    source = Image.open(io.BytesIO(data))
    fmt = source.format if source.format in ACCEPTED_FORMATS else "PNG"
    upright = source.getexif().get(ORIENTATION_TAG, 1) == 1
    image = None  # decoded only when a file is missing
    record = {
        "source": name,
        "prefix": f"{RENDITIONS_DIR}/{_content_hash(data)}",
        "format": ACCEPTED_FORMATS[fmt],
        "width": source.width,
        "height": source.height,
    }
    if not upright:
        # A sideways phone photo: the renditions are turned upright, and so is the size.
        image = _rgb(ImageOps.exif_transpose(source))
        record["width"], record["height"] = image.size
    # An animated GIF or WebP stays as uploaded: a resized copy would keep one frame.
    animated = getattr(source, "is_animated", False)
    record["widths"] = [] if animated else _target_widths(record["width"], widths)
    for item in renditions_list(record):
        if storage.exists(item["name"]):
            continue
        out_fmt = "WEBP" if item["type"] == "image/webp" else fmt
        if item["width"] == record["width"] and out_fmt == source.format and upright:
            payload = data  # same size, same format, upright: the original is the rendition
        else:
            image = image or _rgb(source)
            size = (item["width"], item["height"])
            sized = image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)
            payload = _encode(sized, out_fmt)
        storage.save(item["name"], ContentFile(payload))
    return record


def ensure_renditions(
    field_file, current: dict | None = None, *, widths: tuple[int, ...] = COVER_WIDTHS
) -> dict[str, Any]:
    """The renditions of an image field's file, made only when `current` (what the row
    stored last time) was made for another file. An empty field gives {}; a stored
    file Pillow cannot read gives {} too (the page then shows the original)."""
    if not field_file:
        return {}
    if current and current.get("source") == field_file.name:
        return current
    from PIL import Image  # only now: most saves keep the image they had

    try:
        return make_renditions(field_file.storage, field_file.name, widths=widths)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        logger.warning("No renditions for %s: %s", field_file.name, exc)
        return {}


def _url_of(storage: Storage):
    """`storage.url`, with the local file storage's done by concatenation: a
    listing shows a few dozen renditions, and its urljoin costs more than the rest
    of the picture. Rendition names are ours (no "..", no scheme), where the two agree."""
    # __class__, not type(): default_storage is a lazy proxy of the configured class.
    if not (
        isinstance(storage, FileSystemStorage) and storage.__class__.url is FileSystemStorage.url
    ):
        return storage.url
    base = storage.base_url
    return lambda name: base + filepath_to_uri(name).lstrip("/")


def srcset_data(field_file, data: dict | None) -> dict[str, Any]:
    """What a `<picture>` needs: the WebP srcset, the fallback src and the size."""
    if not field_file:
        return {}
    if not data or data.get("source") != field_file.name:
        # No renditions for this file (yet): the original alone, at its real size.
        try:
            width, height = field_file.width, field_file.height
        except (OSError, ValueError):
            width = height = None
        return {"src": field_file.url, "width": width, "height": height, "srcset": ""}
    url = _url_of(field_file.storage)
    items = renditions_list(data)
    if not items:  # animated: the original, at its size
        return {"src": field_file.url, "width": data["width"], "height": data["height"]}
    return {
        "src": url(items[-1]["name"]),
        "width": data["width"],
        "height": data["height"],
        "srcset": ", ".join(f"{url(r['name'])} {r['width']}w" for r in items[:-1]),
    }
