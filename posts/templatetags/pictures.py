"""Responsive images: an image field as a <picture> with WebP renditions in `srcset`,
a fallback in the original format, and width/height so nothing shifts. The markup
is the `responsive_image` macro of templates/includes/picture.html; this is
its data."""

from __future__ import annotations

from typing import Any

from django import template

from core.images import srcset_data

register = template.Library()


def picture_data(
    field_file,
    renditions: dict | None,
    *,
    alt: str,
    sizes: str = "100vw",
    css_class: str = "",
    eager: bool = False,
    priority: bool = False,
    width: int | None = None,
    height: int | None = None,
) -> dict[str, Any]:
    """`eager` for images in the first screenful (no lazy loading); `priority` adds
    fetchpriority="high" (the post page's cover). `width`/`height` set the box when
    CSS shows the image at a fixed size (avatars); by default the image's own."""
    image = srcset_data(field_file, renditions)
    if image and width and height:
        image = {**image, "width": width, "height": height}
    return {
        "image": image,
        "alt": alt,
        "sizes": sizes,
        "css_class": css_class,
        "lazy": not (eager or priority),
        "priority": priority,
    }


@register.filter
def share_url(field_file, renditions: dict | None) -> str:
    """The image for link previews (og:image): the largest rendition in the original
    format (at most 1440 px wide, JPEG or PNG as uploaded), or the original file."""
    return srcset_data(field_file, renditions).get("src", "")
