from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import AuthorFactory
from posts.models import Authorship, Post, PostTag, Series, Tag

CODE_SAMPLES = [
    ("python", 'def greet(name: str) -> str:\n    return f"Hello, {name}!"\n'),
    ("sql", "SELECT author, count(*)\n  FROM posts\n GROUP BY author;"),
    ("javascript", "const total = items\n  .filter((i) => i.active)\n  .length;"),
    ("bash", "python -m venv .venv\npip install -r requirements.txt"),
]


def markdown_body(faker, n: int = 0) -> str:
    """A realistic post body: paragraphs, a heading, a code block, a table, a list."""
    lang, code = CODE_SAMPLES[n % len(CODE_SAMPLES)]
    paras = faker.paragraphs(nb=6)
    rows = "\n".join(
        f"| {faker.word()} | {faker.random_int(1, 999)} ms | {faker.sentence(nb_words=4)} |"
        for _ in range(3)
    )
    return (
        f"{paras[0]}\n\n{paras[1]}\n\n## {faker.sentence(nb_words=4).rstrip('.')}\n\n"
        f"{paras[2]}\n\n```{lang}\n{code}\n```\n\n{paras[3]}\n\n"
        f"| Name | Time | Note |\n| --- | ---: | --- |\n{rows}\n\n"
        f"- {faker.sentence()}\n- {faker.sentence()}\n- {faker.sentence()}\n\n"
        f"> {faker.sentence(nb_words=12)}\n\n{paras[4]}\n\n{paras[5]}\n"
    )


class TagFactory(DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")
    description = factory.Faker("sentence", nb_words=12)


class SeriesFactory(DjangoModelFactory):
    class Meta:
        model = Series

    title = factory.Sequence(lambda n: f"Series {n}")
    slug = factory.Sequence(lambda n: f"series-{n}")
    description = factory.Faker("sentence", nb_words=14)


class PostFactory(DjangoModelFactory):
    """A public post. Pass authors=[...] and tags=[...] to fill the through rows in order."""

    class Meta:
        model = Post
        skip_postgeneration_save = True

    title = factory.Faker("sentence", nb_words=6)
    slug = factory.Sequence(lambda n: f"post-{n}")
    summary = factory.Faker("sentence", nb_words=14)
    body = factory.LazyFunction(lambda: markdown_body(factory.Faker._get_faker()))
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
            for position, author in enumerate(extracted):
                Authorship.objects.create(post=self, author=author, position=position)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            for position, tag in enumerate(extracted):
                PostTag.objects.create(
                    post=self, tag=tag, position=position, is_primary=position == 0
                )


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
