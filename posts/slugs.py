"""URL history: old slugs and handles keep answering, with a 301 to the current URL."""

from posts.models import SlugHistory


def remember_slug(*, kind: str, old_slug: str, object_id: int) -> None:
    """`old_slug` now answers with a 301 to object `object_id` of `kind`."""
    SlugHistory.objects.update_or_create(
        kind=kind, old_slug=old_slug, defaults={"object_id": object_id}
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
