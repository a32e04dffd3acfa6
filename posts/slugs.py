"""URL history: old slugs and handles keep answering, with a 301 to the current URL."""

from django.db import models

from posts.models import SlugHistory


def remember_slug_change(*, kind: str, obj: models.Model, field: str = "slug") -> None:
    """Called before save: record the old slug if this save changes it."""
    if obj.pk is None:
        return
    old = type(obj).objects.filter(pk=obj.pk).values_list(field, flat=True).first()
    new = getattr(obj, field)
    if old and old != new:
        SlugHistory.objects.update_or_create(
            kind=kind, old_slug=old, defaults={"object_id": obj.pk}
        )


def claim_slug(*, kind: str, slug: str) -> None:
    """A live object owning a slug beats any history entry for it."""
    SlugHistory.objects.filter(kind=kind, old_slug=slug).delete()


def resolve_old_slug(*, kind: str, slug: str) -> int | None:
    """The id of the object that used to answer to `slug`, if any."""
    return (
        SlugHistory.objects.filter(kind=kind, old_slug=slug)
        .values_list("object_id", flat=True)
        .first()
    )
