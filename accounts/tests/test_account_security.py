"""Sign-in throttling (django-axes), password rules and deactivated accounts."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return UserFactory(username="editor", is_staff=True, is_superuser=True)


def sign_in(client, password: str, username: str = "editor"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_after_five_failed_sign_ins_even_the_right_password_is_refused_with_a_message(
    client, staff, settings
):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert sign_in(client, "wrong").status_code == 200  # the form, with its error
    assert sign_in(client, "wrong").status_code == 429

    refused = sign_in(client, PASSWORD)

    assert refused.status_code == 429
    assert refused["Retry-After"] == "900"
    body = refused.content.decode()
    assert "<h1>Sign-in locked</h1>" in body
    assert "locked for 15 minutes, even with the right password" in body
    assert client.get("/admin/").status_code == 302  # not signed in


def test_the_lock_is_per_account_and_address(client, staff):
    UserFactory(username="other", is_staff=True)
    for _ in range(5):
        sign_in(client, "wrong")

    assert sign_in(client, PASSWORD, username="other").status_code == 302
    assert (
        client.post(
            "/admin/login/", {"username": "editor", "password": PASSWORD}, REMOTE_ADDR="192.0.2.9"
        ).status_code
        == 302
    )


def test_a_right_password_before_the_limit_signs_in_and_resets_the_count(client, staff):
    for _ in range(4):
        sign_in(client, "wrong")

    assert sign_in(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert sign_in(client, "wrong").status_code == 200


@pytest.mark.parametrize(
    "password", ["short1!", "password12345", "12345678901234", "editor-editor"]
)
def test_weak_passwords_are_refused(password):
    user = UserFactory.build(username="editor-editor")

    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_long_uncommon_password_is_accepted():
    validate_password("tidy quokka lantern 42", UserFactory.build(username="editor"))


def test_a_deactivated_users_session_ends_at_their_next_request(client, staff):
    assert sign_in(client, PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200

    staff.is_active = False
    staff.save()
    response = client.get("/admin/posts/post/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/posts/post/"
    assert client.get("/admin/").status_code == 302
