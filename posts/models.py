from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core.images import CheckedImageField
from core.links import slug_path
from core.models import DerivedColumnsMixin
from core.rendering import reading_minutes, render_body
from posts.querysets import PostQuerySet


class Tag(DerivedColumnsMixin, models.Model):
    DERIVED_COLUMNS = ("published_post_count",)  # posts.counts writes it

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True, help_text="Shown on the tag's page.")
    # Published posts, scheduled ones included (posts.counts keeps it current);
    # readers see it minus the few scheduled posts, so no index counts rows.
    published_post_count = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["published_post_count"])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return slug_path("posts:tag_detail", "slug", self.slug)


class Series(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return slug_path("posts:series_detail", "slug", self.slug)


class Post(DerivedColumnsMixin, models.Model):
    DERIVED_COLUMNS = ("search_vector",)  # posts.search writes it

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    class BodyFormat(models.TextChoices):
        MARKDOWN = "markdown", "Markdown"
        HTML = "html", "HTML (imported)"

    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=200, unique=True, help_text="The post's URL: /posts/<slug>/."
    )
    summary = models.CharField(
        max_length=300,
        blank=True,
        help_text="One line under the title, in cards, feeds and search results.",
    )
    body = models.TextField(blank=True, help_text="Markdown. Code fences get highlighted.")
    body_format = models.CharField(
        max_length=10, choices=BodyFormat.choices, default=BodyFormat.MARKDOWN
    )
    body_html = models.TextField(blank=True, editable=False)
    cover_image = CheckedImageField(
        upload_to="covers/%Y/",
        blank=True,
        help_text="JPEG, PNG, GIF or WebP; resized copies are made for every screen size.",
    )
    cover_alt = models.CharField(
        max_length=200, blank=True, help_text="Describe the cover image; required with an image."
    )
    # Sizes made of the cover (core.images.ensure_renditions), for srcset without I/O.
    cover_renditions = models.JSONField(default=dict, blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A future time schedules the post; it goes live by itself then.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    canonical_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="Original address, for posts first published elsewhere.",
    )
    source_guid = models.CharField(
        max_length=500,
        null=True,
        blank=True,
        unique=True,
        help_text="Identity in the feed this post was imported from.",
    )
    # sha256 of the imported item (posts.importing): a re-import rewrites the
    # post only when its source changed.
    source_hash = models.CharField(max_length=64, blank=True, editable=False)
    reading_minutes = models.PositiveSmallIntegerField(default=1, editable=False)
    # Moves on with every save through posts.services: a form holding an older
    # number is a stale edit and is refused.
    version = models.PositiveIntegerField(default=1, editable=False)
    series = models.ForeignKey(
        Series, on_delete=models.SET_NULL, null=True, blank=True, related_name="posts"
    )
    series_order = models.PositiveSmallIntegerField(null=True, blank=True)
    authors = models.ManyToManyField(
        "accounts.AuthorProfile", through="Authorship", related_name="posts"
    )
    tags = models.ManyToManyField(Tag, through="PostTag", related_name="posts")
    # Kept up to date on PostgreSQL only (posts.search); NULL on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)

    history = HistoricalRecords(excluded_fields=["body_html", "search_vector", "cover_renditions"])
    objects = PostQuerySet.as_manager()

    # Fields whose change moves the post in or out of, or around, public listings.
    LISTING_FIELDS = ("status", "published_at", "series_id", "series_order")

    class Meta:
        ordering = ["-published_at", "-pk"]
        get_latest_by = "published_at"
        permissions = [("edit_any_post", "Can edit, publish and delete any author's post")]
        indexes = [
            models.Index(fields=["status", "-published_at", "-id"], name="post_public_listing_idx"),
            models.Index(fields=["series", "series_order"], name="post_series_order_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cover_image="") | ~models.Q(cover_alt=""),
                name="post_cover_needs_alt",
                violation_error_message="Describe the cover image (alt text) when you set one.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="published") | models.Q(published_at__isnull=False),
                name="post_published_has_date",
                violation_error_message="A published post needs a publication time.",
            ),
        ]

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        if all(f in field_names for f in cls.LISTING_FIELDS):
            instance._loaded = {f: getattr(instance, f) for f in cls.LISTING_FIELDS}
        return instance

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return slug_path("posts:post_detail", "slug", self.slug)

    @property
    def is_public(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def is_scheduled(self) -> bool:
        return self.status == self.Status.PUBLISHED and not self.is_public

    @property
    def was_updated(self) -> bool:
        """Edited meaningfully after publication (more than a day later)."""
        return bool(
            self.published_at and (self.updated_at - self.published_at).total_seconds() > 86400
        )

    def clean(self) -> None:
        if self.cover_image and not self.cover_alt.strip():
            raise ValidationError({"cover_alt": "Describe the cover image (alt text)."})
        if self.status == self.Status.PUBLISHED and not self.published_at:
            self.published_at = timezone.now()

    def render(self) -> None:
        self.body_html = render_body(self.body, self.body_format)
        self.reading_minutes = reading_minutes(self.body_html)

    def save(self, *args, **kwargs) -> None:
        self.source_guid = self.source_guid or None  # "" would collide with other blanks
        if self.status == self.Status.PUBLISHED and not self.published_at:
            self.published_at = timezone.now()
        self.updated_at = timezone.now()
        self.render()
        super().save(*args, **kwargs)


class Authorship(models.Model):
    """One author on one post's byline."""

    class Role(models.TextChoices):
        AUTHOR = "author", "Author"
        COAUTHOR = "co-author", "Co-author"
        EDITOR = "editor", "Editor"
        TRANSLATOR = "translator", "Translator"
        ILLUSTRATOR = "illustrator", "Illustrator"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="authorships")
    author = models.ForeignKey(
        "accounts.AuthorProfile", on_delete=models.CASCADE, related_name="authorships"
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Byline order, lowest first.")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AUTHOR)
    # As PostTag.listed_at: the post's publication time while it is published.
    listed_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["post", "author"], name="authorship_unique_pair"),
        ]
        indexes = [
            models.Index(fields=["author", "post"], name="authorship_author_post_idx"),
            models.Index(
                fields=["author", "-listed_at", "-post"], name="authorship_author_listed_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author} on {self.post}"


class PostTag(models.Model):
    """One tag on one post, in display order; at most one primary tag per post."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="post_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="tag_posts")
    position = models.PositiveSmallIntegerField(default=0)
    is_primary = models.BooleanField(default=False, help_text="The tag the post is mainly about.")
    # The post's published_at while it is published, else NULL: kept by database
    # triggers (migration 0012_listed_at) on every write, whatever makes it. With the index
    # below, a tag's newest public posts are an index range, not a sort of them all.
    listed_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["post", "tag"], name="posttag_unique_pair"),
            models.UniqueConstraint(
                fields=["post"],
                condition=models.Q(is_primary=True),
                name="posttag_one_primary_per_post",
                violation_error_message="A post can have only one primary tag.",
            ),
        ]
        indexes = [
            models.Index(fields=["tag", "post"], name="posttag_tag_post_idx"),
            models.Index(fields=["tag", "-listed_at", "-post"], name="posttag_tag_listed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.tag} on {self.post}"


class SlugHistory(models.Model):
    """An old slug or handle, so its URL answers 301 to the current one."""

    class Kind(models.TextChoices):
        POST = "post", "Post"
        TAG = "tag", "Tag"
        AUTHOR = "author", "Author"
        SERIES = "series", "Series"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    old_slug = models.SlugField(max_length=200)
    object_id = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "slug history"
        constraints = [
            models.UniqueConstraint(fields=["kind", "old_slug"], name="slughistory_unique_old_slug")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.old_slug} -> {self.object_id}"


class PostRevision(models.Model):
    """The byline and tags that went with one saved version of a post.

    simple-history keeps the post's own fields (`history`); this adds the through
    rows as they were, written once per explicit save (posts.revisions.record).
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    history = models.OneToOneField(
        "posts.HistoricalPost", on_delete=models.CASCADE, related_name="revision"
    )
    # [{"author": id, "name": display name, "role": role}, ...] in byline order.
    byline = models.JSONField(default=list)
    # [{"tag": id, "name": name, "primary": bool}, ...] in display order.
    tags = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"{self.post} v{self.history.version}"


class PreviewLink(models.Model):
    """The secret behind a post's shared preview links; deleting it revokes them all."""

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="preview_link")
    token = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Preview link for {self.post}"


class PathRedirect(models.Model):
    """A path of the site a post was imported from; it answers 301 to the post."""

    old_path = models.CharField(max_length=500, unique=True)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="path_redirects")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["old_path"]

    def __str__(self) -> str:
        return f"{self.old_path} -> {self.post_id}"
