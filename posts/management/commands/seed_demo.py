"""Generated demo content, built with the test factories and written in bulk.

Idempotent: authors, tags and series have fixed handles/slugs and posts are
`demo-<n>`, so a second run with the same --posts adds nothing.

Every post gets a cover and every author an avatar, drawn with Pillow
(posts/demo_images.py) and resized like an upload. Large runs share a pool of
covers so a 100k-post seed stays fast.
"""

import random
from datetime import timedelta
from functools import partial

import factory
import factory.random
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import AuthorProfile
from accounts.tests.factories import UserFactory
from core.cache.store import purge
from core.images import AVATAR_WIDTHS, COVER_WIDTHS
from core.rendering import reading_minutes, render_markdown
from posts import demo_images, images, services
from posts.models import Post, Series, Tag
from posts.templatetags.blog import initials
from posts.tests import demo_text
from posts.tests.factories import (
    AuthorFactory,
    PostFactory,
    SeriesFactory,
    TagFactory,
    markdown_body,
)

DEMO_AUTHORS = [
    ("ada", "Ada Lindqvist", "Databases, indexes and the queries that love them."),
    ("kofi", "Kofi Mensah", "Backend engineer. Caches everything twice."),
    ("mei", "Mei Tanaka", "Front-end, accessibility and calm CSS."),
    ("ravi", "Ravi Iyer", "Shipping Django since 1.2; still surprised weekly."),
    ("lucia", "Lucía Ortega", "Security reviews and threat models for small teams."),
    ("sam", "Sam Okafor", "Ops, on-call and the quiet art of boring infrastructure."),
]
DEMO_TAGS = [
    "Python", "Django", "PostgreSQL", "Redis", "Performance", "Security",
    "Testing", "DevOps", "Web", "Accessibility", "CSS", "Career",
]  # fmt: skip
DEMO_SERIES = [
    ("django-caching-in-depth", "Django caching in depth"),
    ("postgres-for-app-developers", "PostgreSQL for application developers"),
]
BODY_VARIANTS = 8
# Above this many posts, covers come from a pool instead of one per post.
DISTINCT_COVERS_UP_TO = 200
COVER_POOL = 24


class Command(BaseCommand):
    help = "Create demo authors, tags, series and posts (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--posts", type=int, default=40, help="How many demo posts in all.")
        parser.add_argument("--authors", type=int, default=len(DEMO_AUTHORS))
        parser.add_argument("--tags", type=int, default=len(DEMO_TAGS))
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the site already has posts."
        )

    def handle(self, *args, posts: int, authors: int, tags: int, seed: int, **options):
        if posts < 0 or authors < 1 or tags < 1:
            raise CommandError("--posts must be 0 or more; --authors and --tags at least 1.")
        if options["if_empty"] and Post.objects.exists():
            self.stdout.write("The site has posts already; no demo content added.")
            return
        factory.random.reseed_random(seed)
        with transaction.atomic():
            author_objs = self.ensure_authors(authors)
            tag_objs = self.ensure_tags(tags)
            series_objs = [
                Series.objects.filter(slug=slug).first() or SeriesFactory(slug=slug, title=title)
                for slug, title in DEMO_SERIES
            ]
            created = self.create_posts(posts, author_objs, tag_objs, series_objs, seed)
        purge()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo content: {len(author_objs)} authors, {len(tag_objs)} tags, "
                f"{Post.objects.count()} posts ({created} new)."
            )
        )

    def ensure_authors(self, count: int) -> list[AuthorProfile]:
        wanted = list(DEMO_AUTHORS[:count]) + [
            (f"writer-{n}", None, None) for n in range(len(DEMO_AUTHORS), count)
        ]
        existing = {
            a.handle: a for a in AuthorProfile.objects.filter(handle__in=[w[0] for w in wanted])
        }
        missing = [w for w in wanted if w[0] not in existing]
        if len(missing) > 50:
            # Bulk path for benchmark-sized runs: no logins for generated writers.
            built = []
            for handle, name, tagline in missing:
                a = AuthorFactory.build(handle=handle, user=None)
                a.display_name = name or a.display_name
                a.tagline = tagline or a.tagline
                built.append(a)
            services.slugged_bulk_create(objects=built)
        else:
            for handle, name, tagline in missing:
                user = UserFactory(username=handle)
                extra = {"display_name": name} if name else {}
                if tagline:
                    extra["tagline"] = tagline
                AuthorFactory(handle=handle, user=user, **extra)
        authors = list(
            AuthorProfile.objects.filter(handle__in=[w[0] for w in wanted]).order_by("pk")
        )
        self.ensure_avatars(authors)
        return authors

    def ensure_avatars(self, authors: list[AuthorProfile]) -> None:
        """An initials avatar for each demo author who has no picture yet."""
        todo = []
        for author in authors:
            if not author.avatar:
                letters = initials(author.display_name)
                name = f"avatars/demo/{author.handle}-{letters.lower()}.png"
                todo.append((author, name, letters))
        if not todo:
            return
        records = images.images_generate(
            jobs=[
                (name, partial(demo_images.avatar, a.handle, letters)) for a, name, letters in todo
            ],
            widths=AVATAR_WIDTHS,
        )
        images.authors_set_avatars(
            avatars=[
                (a, name, demo_images.avatar_alt(a.handle, letters, a.display_name), records[name])
                for a, name, letters in todo
            ]
        )

    def ensure_tags(self, count: int) -> list[Tag]:
        names = list(DEMO_TAGS[:count]) + [f"Topic {n}" for n in range(len(DEMO_TAGS), count)]
        slugs = {name: name.lower().replace(" ", "-") for name in names}
        existing = set(Tag.objects.filter(slug__in=slugs.values()).values_list("slug", flat=True))
        services.slugged_bulk_create(
            objects=[
                TagFactory.build(name=name, slug=slug)
                for name, slug in slugs.items()
                if slug not in existing
            ]
        )
        return list(Tag.objects.filter(slug__in=slugs.values()).order_by("pk"))

    def create_posts(self, count, authors, tags, series, seed) -> int:
        existing = set(Post.objects.filter(slug__startswith="demo-").values_list("slug", flat=True))
        todo = [n for n in range(count) if f"demo-{n}" not in existing]
        if not todo:
            return 0
        # Rendering Markdown is the slow part: render a few bodies and reuse them.
        bodies = []
        for n in range(BODY_VARIANTS):
            source = markdown_body(random.Random(seed + n), n)
            html = render_markdown(source)
            bodies.append((source, html, reading_minutes(html)))
        now = timezone.now()
        picks = {}
        for n in todo:
            rng = random.Random(seed * 7919 + n)
            byline = rng.sample(authors, k=min(len(authors), rng.choice([1, 1, 2, 3])))
            k = min(len(tags), 5 if len(tags) > 100 else rng.randint(1, 4))
            picks[n] = (byline, rng.sample(tags, k=k))
        covers = self.make_covers(
            count, {n: tag_list[0].name for n, (_, tag_list) in picks.items()}
        )
        items = []
        for n in todo:
            source, html, minutes = bodies[n % BODY_VARIANTS]
            rng = random.Random(seed + n)
            post = PostFactory.build(
                slug=f"demo-{n}",
                title=demo_text.title(rng),
                summary=demo_text.summary(rng),
                body=source,
                # Newest first: demo-0 is the latest; the last one is a draft.
                published_at=now - timedelta(hours=7 * n + 1),
            )
            post.body_html, post.reading_minutes = html, minutes
            if n == count - 1 and count > 3:
                post.status, post.published_at = Post.Status.DRAFT, None
            if n < 8 and series:
                post.series = series[n % len(series)]
                post.series_order = n // len(series) + 1
            byline, picked = picks[n]
            number, word, name, record = covers[n]
            post.cover_image, post.cover_renditions = name, record
            post.cover_alt = demo_images.cover_alt(number, word, post.title)
            items.append(services.NewPost(post=post, authors=byline, tags=picked, rendered=True))
        posts = services.posts_bulk_create(items=items)
        if connection.vendor == "postgresql" and len(posts) > 1000:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # plan the new rows with real statistics
        return len(posts)

    def make_covers(self, count: int, words: dict[int, str]) -> dict[int, tuple]:
        """Post number -> (cover number, word, file name, renditions). Each post gets its
        own cover, drawn around its primary tag's name, up to DISTINCT_COVERS_UP_TO posts;
        past that, posts share a pool of COVER_POOL covers with the demo tag names."""
        chosen = {}
        for n, word in words.items():
            if count > DISTINCT_COVERS_UP_TO:
                number = n % COVER_POOL
                word = DEMO_TAGS[number % len(DEMO_TAGS)]
            else:
                number = n
            chosen[n] = (number, word, f"covers/demo/{number}-{slugify(word)}.jpg")
        jobs = {
            name: partial(demo_images.cover, number, word) for number, word, name in chosen.values()
        }
        records = images.images_generate(jobs=list(jobs.items()), widths=COVER_WIDTHS)
        return {n: (num, word, name, records[name]) for n, (num, word, name) in chosen.items()}
