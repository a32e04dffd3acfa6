"""manage.py create_author: a staff login in a role group plus its author profile."""

import io
import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.models import AuthorProfile
from accounts.tests.factories import UserFactory
from posts.permissions import is_editor
from posts.tests.factories import AuthorFactory

pytestmark = pytest.mark.django_db
User = get_user_model()
STRONG = "plum-orbit-cascade-71"


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command("create_author", *args, stdout=out, **options)
    return out.getvalue()


def counts() -> tuple[int, int]:
    return User.objects.count(), AuthorProfile.objects.count()


@pytest.fixture(autouse=True)
def no_password_env(monkeypatch):
    monkeypatch.delenv("AUTHOR_PASSWORD", raising=False)


def test_with_author_password_it_creates_a_staff_author_and_profile(monkeypatch):
    monkeypatch.setenv("AUTHOR_PASSWORD", STRONG)
    output = run("ada", email="ada@example.com", name="Ada  Lovelace")
    user = User.objects.get(username="ada")
    assert user.is_staff and not user.is_superuser and user.check_password(STRONG)
    assert [g.name for g in user.groups.all()] == ["Authors"]
    assert user.author_profile.handle == "ada"
    assert user.author_profile.display_name == "Ada Lovelace"
    assert not is_editor(user)
    assert "Created author Ada Lovelace (@ada, ada@example.com)." in output
    assert STRONG not in output and "password-reset" not in output


def test_editor_flag_puts_the_login_in_editors(monkeypatch):
    monkeypatch.setenv("AUTHOR_PASSWORD", STRONG)
    run("grace", email="grace@example.com", editor=True)
    user = User.objects.get(username="grace")
    assert [g.name for g in user.groups.all()] == ["Editors"]
    assert is_editor(user)
    assert user.author_profile.display_name == "grace"  # no --name: the handle


def test_a_weak_password_is_refused_in_one_line_and_nothing_is_created(monkeypatch):
    monkeypatch.setenv("AUTHOR_PASSWORD", "12345")
    with pytest.raises(CommandError) as caught:
        run("ada", email="ada@example.com")
    message = str(caught.value)
    assert message.startswith("AUTHOR_PASSWORD is too weak: This password is too short.")
    assert "\n" not in message
    assert counts() == (0, 0)


def test_without_a_password_it_prints_a_one_time_link_that_sets_one(client):
    output = run("lin", email="lin@example.com", name="Lin Park")
    url = re.search(r"http://\S+", output).group(0)
    assert url.startswith("http://127.0.0.1:8000/admin/password-reset/")
    user = User.objects.get(username="lin")
    assert not user.has_usable_password()

    path = urlsplit(url).path
    response = client.get(path)
    assert response.status_code == 302
    form_url = response["Location"]
    assert form_url.endswith("/set-password/")
    form = client.get(form_url)
    assert form.status_code == 200
    assert 'name="new_password1"' in form.content.decode()
    done = client.post(form_url, {"new_password1": STRONG, "new_password2": STRONG})
    assert (done.status_code, done["Location"]) == (302, "/admin/password-reset/done/")
    assert client.get("/admin/password-reset/done/").status_code == 200
    user.refresh_from_db()
    assert user.check_password(STRONG)
    # One time: the same link no longer works once the password is set.
    client.logout()
    again = client.get(path, follow=True)
    assert "new_password1" not in again.content.decode()


@pytest.mark.parametrize(
    ("existing", "args", "error"),
    [
        ("profile", ("ada", "new@example.com"), "An author with the handle 'ada' exists already"),
        ("user", ("ada", "new@example.com"), "A login named 'ada' exists already"),
        ("email", ("newbie", "ADA@example.com"), "A login with the email ADA@example.com exists"),
    ],
)
def test_an_existing_handle_login_or_email_is_refused_and_nothing_changes(
    monkeypatch, existing, args, error
):
    monkeypatch.setenv("AUTHOR_PASSWORD", STRONG)
    if existing == "profile":
        AuthorFactory(handle="ada", user=UserFactory(username="someone-else"))
    else:
        UserFactory(username="ada", email="ada@example.com")
    before = counts()
    with pytest.raises(CommandError, match=error):
        run(args[0], email=args[1])
    assert counts() == before


def test_running_it_twice_fails_the_second_time(monkeypatch):
    monkeypatch.setenv("AUTHOR_PASSWORD", STRONG)
    run("ada", email="ada@example.com")
    with pytest.raises(CommandError, match="exists already; nothing changed"):
        run("ada", email="ada@example.com")
    assert counts() == (1, 1)


@pytest.mark.parametrize("handle", ["ada lovelace", "ada/..", "ådä!"])
def test_a_handle_that_is_not_a_slug_is_refused(handle):
    with pytest.raises(CommandError, match="Invalid handle"):
        run(handle, email="a@example.com")
    assert counts() == (0, 0)


def test_an_invalid_email_is_refused():
    with pytest.raises(CommandError, match="Invalid email address 'nope'"):
        run("ada", email="nope")
