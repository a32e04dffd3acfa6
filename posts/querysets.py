from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db import connections, models
from django.db.models import Prefetch
from django.db.models.query import RawQuerySet
from django.utils import timezone

# What bylines and tag chips show; bios and descriptions stay in the database.
CARD_AUTHORSHIP_FIELDS = (
    "post_id", "position", "role", "author__user_id", "author__handle",
    "author__display_name", "author__tagline", "author__avatar", "author__avatar_alt",
)  # fmt: skip
CARD_TAG_FIELDS = ("post_id", "position", "is_primary", "tag__name", "tag__slug")


class PostQuerySet(models.QuerySet):
    def public(self, at: datetime | None = None):
        """Published and due (at `at`, default now): the only posts a reader may see."""
        return self.filter(status="published", published_at__lte=at or timezone.now())

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


# Values no real query binds, standing in for a prepared query's parameters.
_MARK_INT = -(2**62)
_MARK_TIME = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)


class PreparedQuery:
    """A fixed-shape reader query, built and compiled once per process and database.

    Building and compiling a queryset with subqueries costs more CPU than running
    it (the post page's related posts: ~5 ms to build, ~0.1 ms to run). `build`
    gets a marker value for each named parameter and returns the queryset; the
    markers are then found among the compiled SQL's parameters, and each call
    binds its own values in their places and runs the SQL as a raw query.

    `params` maps each name to its type, `int` or `datetime`. Only for querysets
    whose SQL does not depend on the values (no `__in` lists, no None checks).
    """

    def __init__(self, build: Callable[..., models.QuerySet], **params: type) -> None:
        self.build = build
        self.params = params
        self._compiled: dict[str, tuple[type[models.Model], str, list]] = {}

    def _markers(self) -> dict[str, object]:
        return {
            name: _MARK_INT - n if kind is int else _MARK_TIME + timedelta(microseconds=n)
            for n, (name, kind) in enumerate(self.params.items())
        }

    @staticmethod
    def _adapt(connection, value):
        if isinstance(value, datetime):
            return connection.ops.adapt_datetimefield_value(value)
        return value

    def _compile(self, using: str):
        connection = connections[using]
        markers = self._markers()
        queryset = self.build(**markers)
        sql, params = queryset.query.get_compiler(using=using).as_sql()
        names = {self._adapt(connection, value): name for name, value in markers.items()}
        # Each parameter: the name of the value to bind, or a constant as a 1-tuple.
        slots = [
            names.get(p, (p,)) if isinstance(p, int | str | datetime) else (p,) for p in params
        ]
        missing = set(self.params) - {slot for slot in slots if isinstance(slot, str)}
        if missing:
            raise ValueError(f"Prepared query parameters not found in its SQL: {sorted(missing)}")
        return queryset.model, sql, slots

    def raw(self, using: str = "default", **values) -> RawQuerySet:
        """The query's rows as model instances, `values` bound (each name, exactly)."""
        if set(values) != set(self.params):
            raise TypeError(f"Expected values for {sorted(self.params)}, got {sorted(values)}")
        if using not in self._compiled:
            self._compiled[using] = self._compile(using)
        model, sql, slots = self._compiled[using]
        connection = connections[using]
        adapted = {name: self._adapt(connection, value) for name, value in values.items()}
        params = [adapted[slot] if isinstance(slot, str) else slot[0] for slot in slots]
        return model._default_manager.raw(sql, params, using=using)
