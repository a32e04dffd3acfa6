import copy
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections, models
from django.db.models import signals
from django.db.models.base import ModelState
from django.db.models.query import ModelIterable
from django.utils import timezone


class PostQuerySet(models.QuerySet):
    def public(self, at: datetime | None = None):
        """Published and due (at `at`, default now): the only posts a reader may see."""
        return self.filter(status="published", published_at__lte=at or timezone.now())

    def scheduled(self):
        return self.filter(status="published", published_at__gt=timezone.now())

    def latest_first(self):
        return self.order_by("-published_at", "-pk")

    def for_tag(self, tag, at: datetime | None = None):
        """`tag`'s posts (an instance or a pk), newest first, found on the tag rows'
        (tag, listed_at) index: a page reads a few index entries however many posts
        the tag has. Chain it after `public()` (with the same `at`), which stays
        the rule; `listed_at` only finds the rows."""
        return self.filter(
            post_tags__tag=tag, post_tags__listed_at__lte=at or timezone.now()
        ).order_by("-post_tags__listed_at", "-post_tags__post_id")

    def for_author(self, author, at: datetime | None = None):
        """As `for_tag`, on the byline rows' (author, listed_at) index."""
        return self.filter(
            authorships__author=author, authorships__listed_at__lte=at or timezone.now()
        ).order_by("-authorships__listed_at", "-authorships__post_id")

    def with_card_data(self):
        """Everything a post card shows, in a fixed number of queries (three)."""
        qs = self.select_related("series")
        # Attaches the rows prefetch_related() would, for a tenth of its CPU.
        qs._iterable_class = CardDataIterable
        return qs


# Values no real query binds, standing in for a prepared query's parameters.
_MARK_INT = -(2**62)
_MARK_TIME = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)
_MARK_STR = "\u2983prepared query parameter "


class PreparedQuery:
    """A fixed-shape reader query, built and compiled once per process and database.

    Building and compiling a queryset with subqueries costs more CPU than running
    it (the post page's related posts: ~5 ms to build, ~0.1 ms to run). `build`
    gets a marker value for each named parameter and returns the queryset; the
    markers are then found among the compiled SQL's parameters, and each call
    binds its own values in their places and runs the SQL as a raw query.

    `params` maps each name to its type, `int`, `str` or `datetime`. Only for querysets
    whose SQL does not depend on the values: no None checks, and an `__in` list
    only as one named value per item (a query per list length, as for cards).

    On PostgreSQL the statement is also prepared on the server (`prepared()`):
    parsed once per connection and, after a few runs, planned once, which suits
    a statement whose best plan is the same for every value. `on_server=False`
    for one whose plan should follow its values (search: a word in every post
    and a rare one want different plans).
    """

    def __init__(
        self, build: Callable[..., models.QuerySet], *, on_server: bool = True, **params: type
    ) -> None:
        self.build = build
        self.on_server = on_server
        self.params = params
        # Per database: the queryset, its compiler after compiling, the SQL, the slots.
        self._compiled: dict[str, tuple[models.QuerySet, Any, str, list]] = {}

    def _markers(self) -> dict[str, object]:
        def marker(n: int, kind: type) -> object:
            if kind is int:
                return _MARK_INT - n
            if kind is str:
                return f"{_MARK_STR}{n}"
            return _MARK_TIME + timedelta(microseconds=n)

        return {name: marker(n, kind) for n, (name, kind) in enumerate(self.params.items())}

    @staticmethod
    def _adapt(connection, value):
        if isinstance(value, datetime):
            return connection.ops.adapt_datetimefield_value(value)
        return value

    def _compile(self, using: str):
        connection = connections[using]
        markers = self._markers()
        queryset = self.build(**markers)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        names = {self._adapt(connection, value): name for name, value in markers.items()}
        # Each parameter: the name of the value to bind, or a constant as a 1-tuple.
        slots = [
            names.get(p, (p,)) if isinstance(p, int | str | datetime) else (p,) for p in params
        ]
        missing = set(self.params) - {slot for slot in slots if isinstance(slot, str)}
        if missing:
            raise ValueError(f"Prepared query parameters not found in its SQL: {sorted(missing)}")
        return queryset, compiler, sql, slots

    def bind(self, using: str = "default", **values) -> tuple[type[models.Model], str, list]:
        """(model, SQL, parameters) with `values` bound (each name, exactly)."""
        if set(values) != set(self.params):
            raise TypeError(f"Expected values for {sorted(self.params)}, got {sorted(values)}")
        if using not in self._compiled:
            self._compiled[using] = self._compile(using)
        queryset, _compiler, sql, slots = self._compiled[using]
        connection = connections[using]
        adapted = {name: self._adapt(connection, value) for name, value in values.items()}
        params = [adapted[slot] if isinstance(slot, str) else slot[0] for slot in slots]
        return queryset.model, sql, params

    def instances(
        self, using: str = "default", *, window: slice | None = None, **values
    ) -> list[models.Model]:
        """The query's rows as the queryset itself would give them (select_related
        rows, deferred fields, annotations), made by Django's own iterable from the
        SQL compiled once: a copy of the first compiler answers with this call's
        parameters instead of compiling again (for a post by slug, 0.4 ms).

        `window` (start and stop given) slices the rows in SQL, so one compiled
        query serves every page of a listing; the queryset built must then be
        unsliced."""
        _model, sql, params = self.bind(using, **values)
        if window is not None:
            # The LIMIT written in (an int; a listing's page size is fixed) and the
            # first page without OFFSET: PostgreSQL plans a bound LIMIT or OFFSET as
            # a tenth of the rows, so its generic plan never looked cheaper than
            # planning each run (1 ms for the home listing, five times its run).
            sql = f"{sql} LIMIT {int(window.stop - window.start)}"
            if window.start:
                sql, params = f"{sql} OFFSET %s", [*params, window.start]
        queryset, compiler, _sql, _slots = self._compiled[using]
        runner = copy.copy(compiler)  # select, klass_info, col_count: set by the first compile
        # This thread's connection: the first compile may have run in another thread.
        runner.connection = connections[using]
        runner.as_sql = lambda *args, **kwargs: (sql, params)
        fresh = queryset.using(using)  # a clone, not yet evaluated
        fresh.query.get_compiler = lambda *args, **kwargs: runner
        with prepared(using, self.on_server):
            return list(fresh)

    def raw(self, using: str = "default", **values) -> list[models.Model]:
        """The query's rows as model instances (a raw query's)."""
        model, sql, params = self.bind(using, **values)
        with prepared(using, self.on_server):
            return list(model._default_manager.raw(sql, params, using=using))

    def rows(self, using: str = "default", **values) -> list[tuple]:
        """The query's rows as tuples, as the database returns them (no field converters)."""
        _model, sql, params = self.bind(using, **values)
        with prepared(using, self.on_server), connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


class PreparedListing:
    """A listing for the paginator (posts.pagination) to slice: each page runs
    `query`'s SQL, compiled once per process, with `values` and the page's window
    bound. `queryset`, when given, builds the same listing as a queryset, for
    what one fixed statement cannot do: the paginator's late lookup of deep pages."""

    def __init__(
        self,
        query: PreparedQuery,
        *,
        queryset: Callable[[], models.QuerySet] | None = None,
        **values: Any,
    ) -> None:
        self.query = query
        self.queryset = queryset
        self.values = values

    def __getitem__(self, window: slice) -> list[models.Model]:
        return self.query.instances(window=window, **self.values)


def prepared(using: str = "default", on: bool = True) -> AbstractContextManager:
    """Statements run inside are prepared on the server, where the backend can
    (core.db.postgresql); elsewhere, or with `on` false, nothing changes."""
    start = getattr(connections[using], "prepared_statements", None)
    return start() if on and start is not None else nullcontext()


# --- Card data without the prefetch machinery ----------------------------------------
# prefetch_related() builds, for every post, a filtered queryset to hold its rows:
# 3.6 ms of CPU for a page of ten cards, against 0.3 ms for the same rows fetched
# with prepared SQL and made into instances here. The result is the same: each
# post's `authorships` and `post_tags` answer `.all()` from memory, in position
# order, each row with its author or tag loaded (only the fields a card shows).

# What bylines and tag chips show (and the author and tag indexes: selectors);
# bios and descriptions stay in the database.
_AUTHORSHIP = ("id", "post_id", "author_id", "position", "role")
AUTHOR_CARD_FIELDS = (
    "id", "user_id", "handle", "display_name", "tagline", "avatar", "avatar_alt",
    "avatar_renditions",
)  # fmt: skip
_POST_TAG = ("id", "post_id", "tag_id", "position", "is_primary")
TAG_CARD_FIELDS = ("id", "name", "slug")
# One prepared query per number of posts and relation (pages hold a few sizes).
_card_queries: dict[tuple[str, int], PreparedQuery] = {}


def _card_query(through, relation: str, target: str, own: tuple, other: tuple, n: int):
    key = (relation, n)
    if key not in _card_queries:
        columns = [*own, *(f"{target}__{f}" for f in other)]

        def build(**ids):
            return (
                through.objects.filter(post_id__in=list(ids.values()))
                .order_by("position", "pk")
                .values_list(*columns)
            )

        _card_queries[key] = PreparedQuery(build, **{f"p{i}": int for i in range(n)})
    return _card_queries[key]


def _maker(model, field_names: tuple, db: str):
    """`model.from_db(db, field_names, values)` without Model.__init__'s per-field
    walk (a tenth of the cost; a listing makes ~150 of these): the values go
    straight into the instance's __dict__, where from_db would put them, and the
    fields not fetched stay deferred. Plain from_db for a model with init signals."""
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        return lambda values: model.from_db(db, field_names, values)
    attnames = tuple(model._meta.get_field(f).attname for f in field_names)

    def make(values):
        obj = model.__new__(model)
        obj.__dict__.update(zip(attnames, values, strict=True))
        obj._state = state = ModelState()
        state.adding, state.db = False, db
        return obj

    return make


def _rows_to_instances(through, target_model, target: str, own, other, rows, db):
    set_target = through._meta.get_field(target).set_cached_value
    # Raw rows skip field converters; these fields need two: SQLite's 0/1 for
    # booleans and JSON stored as text.
    converters = {
        i: field.from_db_value
        for i, field in enumerate(
            [through._meta.get_field(f) for f in own]
            + [target_model._meta.get_field(f) for f in other]
        )
        if field.get_internal_type() == "JSONField"
    }
    bools = [
        i
        for i, f in enumerate(own)
        if through._meta.get_field(f).get_internal_type() == "BooleanField"
    ]
    connection = connections[db]
    make_link, make_target = _maker(through, own, db), _maker(target_model, other, db)
    split = len(own)
    made = []
    for row in rows:
        values = list(row)
        for i in bools:
            values[i] = bool(values[i])
        for i, convert in converters.items():
            if isinstance(values[i], str):
                values[i] = convert(values[i], None, connection)
        link = make_link(values[:split])
        set_target(link, make_target(values[split:]))
        made.append(link)
    return made


def attach_card_data(posts, using: str = "default") -> None:
    """Bylines and tag chips for `posts` (model instances), two queries for all of them."""
    posts = [p for p in posts if "authorships" not in getattr(p, "_prefetched_objects_cache", {})]
    if not posts:
        return
    post_model = type(posts[0])
    ids = {f"p{i}": p.pk for i, p in enumerate(posts)}
    found: dict[str, tuple[models.ForeignKey, dict[int, list]]] = {}
    for relation, target, own, other in (
        ("authorships", "author", _AUTHORSHIP, AUTHOR_CARD_FIELDS),
        ("post_tags", "tag", _POST_TAG, TAG_CARD_FIELDS),
    ):
        to_post = post_model._meta.get_field(relation).field  # the rows' FK to the post
        through = to_post.model
        target_model = through._meta.get_field(target).related_model
        query = _card_query(through, relation, target, own, other, len(posts))
        rows = query.rows(using, **ids)
        by_post: dict[int, list] = {p.pk: [] for p in posts}
        for link in _rows_to_instances(through, target_model, target, own, other, rows, using):
            by_post[link.post_id].append(link)
        found[relation] = to_post, by_post
    for post in posts:
        cache = post.__dict__.setdefault("_prefetched_objects_cache", {})
        for relation, (to_post, by_post) in found.items():
            cache[relation] = _evaluated(post, to_post, by_post[post.pk])


def _evaluated(post, to_post: models.ForeignKey, rows: list) -> models.QuerySet:
    """What prefetch_related() stores for `post`'s relation whose rows point at it
    through `to_post`: the queryset its related manager gives, already evaluated,
    so further filtering queries only this post's rows. Made as the manager makes
    it (a deferred filter on the post, the post known to the rows a further query
    reads) but without making the manager and cloning its queryset: 19 µs a
    relation, 40 of them for a feed."""
    qs = to_post.model._default_manager.db_manager(post._state.db).get_queryset()
    qs._add_hints(instance=post)
    qs._deferred_filter = (False, (), {to_post.name: post})
    qs._known_related_objects = {to_post: {post.pk: post}}
    qs._result_cache, qs._prefetch_done = rows, True
    return qs


class CardDataIterable(ModelIterable):
    """Posts, then their card data for all of them at once (see `with_card_data`)."""

    def __iter__(self):
        posts = list(super().__iter__())
        attach_card_data(posts, self.queryset.db)
        yield from posts
