import random
from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import AuthorProfile
from accounts.tests.factories import UserFactory
from posts import services
from posts.models import Authorship, Post, PostTag, Series, Tag
from posts.tests import demo_text

CODE_SAMPLES = [
    ("python", 'def greet(name: str) -> str:\n    return f"Hello, {name}!"\n'),
    ("sql", "SELECT author, count(*)\n  FROM posts\n GROUP BY author;"),
    ("javascript", "const total = items\n  .filter((i) => i.active)\n  .length;"),
    ("bash", "python -m venv .venv\npip install -r requirements.txt"),
]


def markdown_body(rng=None, n: int = 0) -> str:
    """A realistic post body: paragraphs, a heading, a code block, a table, a list."""
    rng = rng or random.Random(n)
    lang, code = CODE_SAMPLES[n % len(CODE_SAMPLES)]
    paras = [demo_text.paragraph(rng) for _ in range(6)]
    rows = "\n".join(
        f"| {name} | {rng.randint(2, 900)} ms | {rng.choice(['before', 'after', 'cached'])} |"
        for name in rng.sample(["home", "post", "tag page", "feed", "search"], k=3)
    )
    bullets = "\n".join(f"- {s}" for s in rng.sample(demo_text.SENTENCES, k=3))
    return (
        f"{paras[0]}\n\n{paras[1]}\n\n## The setup\n\n"
        f"{paras[2]}\n\n```{lang}\n{code}\n```\n\n{paras[3]}\n\n## What we measured\n\n"
        f"| Page | Time | Variant |\n| --- | ---: | --- |\n{rows}\n\n{bullets}\n\n"
        f"> {rng.choice(demo_text.SENTENCES)}\n\n{paras[4]}\n\n{paras[5]}\n"
    )


class ServiceFactory(DjangoModelFactory):
    """Creates through posts.services, so derived data is as a real write leaves it."""

    class Meta:
        abstract = True

    @classmethod
    def _save_new(cls, obj):
        raise NotImplementedError

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return cls._save_new(model_class(*args, **kwargs))


class AuthorFactory(DjangoModelFactory):
    class Meta:
        model = AuthorProfile

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through the service, like every content write (it keeps handle history).
        return services.author_save(author=model_class(*args, **kwargs))

    user = factory.SubFactory(UserFactory, is_staff=True)  # authors sign in to the admin
    handle = factory.Sequence(lambda n: f"author-{n}")
    display_name = factory.Faker("name")
    tagline = factory.Faker("catch_phrase")
    bio = factory.Sequence(
        lambda n: (
            demo_text.paragraph(random.Random(n), 3)
            + "\n\nWrites about **software**, teams and [the web](https://example.com/)."
        )
    )
    website = factory.Faker("url")
    github = factory.LazyAttribute(lambda o: o.handle)


class TagFactory(ServiceFactory):
    class Meta:
        model = Tag

    @classmethod
    def _save_new(cls, obj):
        # Get-or-create by slug: tests name shared tags by slug.
        return Tag.objects.filter(slug=obj.slug).first() or services.tag_save(tag=obj)

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")
    description = factory.LazyAttribute(
        lambda o: f"Articles, notes and war stories about {o.name}, from people who ship it."
    )


class SeriesFactory(ServiceFactory):
    class Meta:
        model = Series

    @classmethod
    def _save_new(cls, obj):
        return services.series_save(series=obj)

    title = factory.Sequence(lambda n: f"Series {n}")
    slug = factory.Sequence(lambda n: f"series-{n}")
    description = factory.LazyAttribute(
        lambda o: f"{o.title}: a series in parts, best read in order."
    )


class PostFactory(ServiceFactory):
    """A public post. Pass authors=[...] and tags=[...] to fill the through rows in order."""

    class Meta:
        model = Post
        skip_postgeneration_save = True

    @classmethod
    def _save_new(cls, obj):
        return services.post_save(post=obj)

    title = factory.Sequence(lambda n: demo_text.title(random.Random(n)))
    slug = factory.Sequence(lambda n: f"post-{n}")
    summary = factory.Sequence(lambda n: demo_text.summary(random.Random(n)))
    body = factory.Sequence(lambda n: markdown_body(random.Random(n), n))
    status = Post.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))

    class Params:
        draft = factory.Trait(status=Post.Status.DRAFT, published_at=None)
        scheduled = factory.Trait(
            published_at=factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
        )

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        if create and extracted:
            services.post_set_byline(post=self, authors=extracted)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            services.post_set_tags(post=self, tags=extracted)


class AuthorshipFactory(DjangoModelFactory):
    class Meta:
        model = Authorship

    post = factory.SubFactory(PostFactory)
    author = factory.SubFactory(AuthorFactory)
    position = factory.Sequence(lambda n: n)


class PostTagFactory(DjangoModelFactory):
    class Meta:
        model = PostTag

    post = factory.SubFactory(PostFactory)
    tag = factory.SubFactory(TagFactory)
    position = factory.Sequence(lambda n: n)
