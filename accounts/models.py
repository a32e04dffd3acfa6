from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from core.images import CheckedImageField
from core.links import slug_path
from core.models import DerivedColumnsMixin
from core.rendering import render_markdown


class User(AbstractUser):
    """Login account. Authors and editors sign in to the admin with it."""

    class Meta:
        ordering = ["username"]


class AuthorProfile(DerivedColumnsMixin, models.Model):
    """The public face of an author: the byline, the author page, the feed."""

    DERIVED_COLUMNS = ("published_post_count",)  # posts.counts writes it

    user = models.OneToOneField(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="author_profile",
        help_text="The login that may edit this author's posts. Imported authors may have none.",
    )
    handle = models.SlugField(
        max_length=60, unique=True, help_text="Used in the author's URL, e.g. /authors/ada/."
    )
    display_name = models.CharField(max_length=120)
    tagline = models.CharField(max_length=200, blank=True, help_text="One line under the name.")
    bio = models.TextField(blank=True, help_text="Markdown.")
    bio_html = models.TextField(blank=True, editable=False)
    avatar = CheckedImageField(
        upload_to="avatars/%Y/", blank=True, help_text="JPEG, PNG, GIF or WebP, square works best."
    )
    avatar_alt = models.CharField(
        max_length=200, blank=True, help_text="Describe the picture for screen readers."
    )
    # Sizes made of the avatar (core.images.ensure_renditions), for srcset without I/O.
    avatar_renditions = models.JSONField(default=dict, blank=True, editable=False)
    website = models.URLField(blank=True)
    twitter = models.CharField(max_length=60, blank=True, help_text="Handle without @.")
    mastodon = models.URLField(blank=True, help_text="Full profile URL.")
    github = models.CharField(max_length=60, blank=True, help_text="GitHub username.")
    linkedin = models.URLField(blank=True)
    # Published posts, scheduled ones included (posts.counts keeps it current).
    published_post_count = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(
        excluded_fields=["bio_html", "published_post_count", "avatar_renditions"]
    )

    class Meta:
        ordering = ["display_name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(avatar="") | ~models.Q(avatar_alt=""),
                name="author_avatar_needs_alt",
                violation_error_message="Describe the avatar (alt text) when you set one.",
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return slug_path("posts:author_detail", "handle", self.handle)

    def clean(self) -> None:
        if self.avatar and not self.avatar_alt.strip():
            raise ValidationError(
                {"avatar_alt": "Describe the avatar (alt text) when you set one."}
            )

    def render(self) -> None:
        self.bio_html = render_markdown(self.bio)

    def save(self, *args, **kwargs) -> None:
        self.render()
        super().save(*args, **kwargs)

    @property
    def social_links(self) -> list[tuple[str, str]]:
        links = []
        if self.website:
            links.append(("Website", self.website))
        if self.twitter:
            links.append(("X / Twitter", f"https://x.com/{self.twitter.lstrip('@')}"))
        if self.mastodon:
            links.append(("Mastodon", self.mastodon))
        if self.github:
            links.append(("GitHub", f"https://github.com/{self.github}"))
        if self.linkedin:
            links.append(("LinkedIn", self.linkedin))
        return links
