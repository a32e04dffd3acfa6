from django.db import models
from django.db.models import Prefetch
from django.utils import timezone

# What bylines and tag chips show; bios and descriptions stay in the database.
CARD_AUTHORSHIP_FIELDS = (
    "post_id", "position", "role", "author__user_id", "author__handle",
    "author__display_name", "author__tagline", "author__avatar", "author__avatar_alt",
)  # fmt: skip
CARD_TAG_FIELDS = ("post_id", "position", "is_primary", "tag__name", "tag__slug")


class PostQuerySet(models.QuerySet):
    def public(self):
        """Published and due: the only posts a reader may see."""
        return self.filter(status="published", published_at__lte=timezone.now())

    def scheduled(self):
        return self.filter(status="published", published_at__gt=timezone.now())

    def latest_first(self):
        return self.order_by("-published_at", "-pk")

    def for_tag(self, tag):
        return self.filter(post_tags__tag=tag)

    def for_author(self, author):
        return self.filter(authorships__author=author)

    def with_card_data(self):
        """Everything a post card shows, in a fixed number of queries."""
        return self.select_related("series").prefetch_related(*card_prefetches(self.model))


def card_prefetches(post_model) -> tuple[Prefetch, Prefetch]:
    """The byline and tag chips of a card, for `prefetch_related(_objects)`."""
    # The through models, reached from the model served (no import of posts.models here).
    authorship = post_model._meta.get_field("authorships").related_model
    post_tag = post_model._meta.get_field("post_tags").related_model
    return (
        Prefetch(
            "authorships",
            queryset=authorship.objects.select_related("author")
            .only(*CARD_AUTHORSHIP_FIELDS)
            .order_by("position", "pk"),
        ),
        Prefetch(
            "post_tags",
            queryset=post_tag.objects.select_related("tag")
            .only(*CARD_TAG_FIELDS)
            .order_by("position", "pk"),
        ),
    )
