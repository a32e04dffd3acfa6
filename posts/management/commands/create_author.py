"""`manage.py create_author HANDLE --email EMAIL [--name "Display Name"] [--editor]`:
an admin login (staff, in the Authors or Editors group) and its author profile."""

from __future__ import annotations

import os

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email, validate_slug
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import AuthorProfile
from core.links import site_url
from posts import services
from posts.roles import ensure_roles

PASSWORD_ENV = "AUTHOR_PASSWORD"  # noqa: S105 - the variable's name, not a password


def set_password_url(user) -> str:
    """A one-time link to choose a password (Django's reset token: it stops working
    once the password is set, or after PASSWORD_RESET_TIMEOUT)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return site_url(reverse("password_reset_confirm", args=(uid, token)))


class Command(BaseCommand):
    help = (
        "Create an author's admin login and profile. The password comes from "
        f"${PASSWORD_ENV}; without it a one-time set-password link is printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("handle", help="URL name and login, e.g. ada (/authors/ada/).")
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="", help="Display name (default: the handle).")
        parser.add_argument(
            "--editor", action="store_true", help="Editors group: may edit and publish any post."
        )

    def handle(self, *args, handle: str, email: str, name: str, editor: bool, **options):
        User = get_user_model()
        handle, email = handle.strip(), email.strip()
        try:
            validate_slug(handle)
        except ValidationError:
            raise CommandError(
                f"Invalid handle {handle!r}: use letters, digits, hyphens and underscores only."
            ) from None
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"Invalid email address {email!r}.") from None
        if AuthorProfile.objects.filter(handle__iexact=handle).exists():
            raise CommandError(
                f"An author with the handle {handle!r} exists already; nothing changed."
            )
        if User.objects.filter(username__iexact=handle).exists():
            raise CommandError(f"A login named {handle!r} exists already; nothing changed.")
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"A login with the email {email} exists already; nothing changed.")

        display_name = " ".join(name.split()) or handle
        user = User(username=handle, email=email, is_staff=True, first_name=display_name)
        password = os.environ.get(PASSWORD_ENV)
        if password:
            try:
                password_validation.validate_password(password, user)
            except ValidationError as error:
                raise CommandError(
                    f"{PASSWORD_ENV} is too weak: {' '.join(error.messages)}"
                ) from None
            user.set_password(password)
        else:
            user.set_unusable_password()

        role = "Editors" if editor else "Authors"
        with transaction.atomic():
            group = Group.objects.filter(name=role).first()
            if group is None:
                ensure_roles()  # normally done after migrate; a flushed database lacks them
                group = Group.objects.get(name=role)
            user.save()
            user.groups.add(group)
            author = services.author_create(user=user, handle=handle, display_name=display_name)

        self.stdout.write(
            self.style.SUCCESS(
                f"Created {role[:-1].lower()} {author.display_name} (@{author.handle}, {email})."
            )
        )
        if password:
            self.stdout.write(
                f"Password set from ${PASSWORD_ENV}. Sign in at {site_url(reverse('admin:login'))}"
            )
        else:
            days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
            self.stdout.write(
                f"Send them this one-time link to choose a password (valid {days} days):\n"
                f"{set_password_url(user)}"
            )
