import factory
from factory.django import DjangoModelFactory

from accounts.models import AuthorProfile, User


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
    bio = factory.LazyFunction(
        lambda: (
            "\n\n".join(factory.Faker._get_faker().paragraphs(nb=2))
            + "\n\nWrites about **software** and [the web](https://example.com/)."
        )
    )
    website = factory.Faker("url")
    github = factory.LazyAttribute(lambda o: o.handle)
