import random

import factory
from factory.django import DjangoModelFactory

from accounts.models import AuthorProfile, User
from posts.tests import demo_text


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class AuthorFactory(DjangoModelFactory):
    class Meta:
        model = AuthorProfile

    user = factory.SubFactory(UserFactory)
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
