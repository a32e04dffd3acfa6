from django.db import models
from django.db.models import Prefetch
from django.utils import timezone


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
        from posts.models import Authorship, PostTag

        return self.select_related("series").prefetch_related(
            Prefetch(
                "authorships",
                queryset=Authorship.objects.select_related("author").order_by("position", "pk"),
            ),
            Prefetch(
                "post_tags",
                queryset=PostTag.objects.select_related("tag").order_by("position", "pk"),
            ),
        )
