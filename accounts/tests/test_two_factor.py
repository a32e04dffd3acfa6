"""Optional TOTP two-factor sign-in for the admin, required for editors when
REQUIRE_2FA_FOR_EDITORS is on (accounts/two_factor.py)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def sign_in(client, username: str, token: str = ""):
    data = {"username": username, "password": PASSWORD, "otp_token": token}
    return client.post("/admin/login/?next=/admin/", data)


def test_a_user_with_an_authenticator_cannot_sign_in_without_its_code(client):
    enrolled(UserFactory(username="ada", is_staff=True))

    response = sign_in(client, "ada")

    assert response.status_code == 200
    assert "enter the 6-digit code from your authenticator app" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_a_wrong_code_is_refused(client):
    device = enrolled(UserFactory(username="ada", is_staff=True))
    wrong = f"{(int(code(device)) + 1) % 1_000_000:06d}"

    response = sign_in(client, "ada", wrong)

    assert response.status_code == 200
    assert "That authentication code is not right" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_the_right_code_signs_in_and_opens_the_admin(client):
    device = enrolled(UserFactory(username="ada", is_staff=True))

    response = sign_in(client, "ada", code(device))

    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_code_cannot_be_used_twice(client):
    device = enrolled(UserFactory(username="ada", is_staff=True))
    with time_machine.travel("2026-12-01 12:00:05", tick=False):
        token = code(device)
        assert sign_in(client, "ada", token).status_code == 302
        client.logout()

        assert sign_in(client, "ada", token).status_code == 200


def test_a_password_session_without_the_code_does_not_open_the_admin(client):
    """A session from before the authenticator was added must sign in again."""
    user = UserFactory(username="ada", is_staff=True)
    client.force_login(user)
    assert client.get("/admin/").status_code == 200

    enrolled(user)

    assert client.get("/admin/").status_code == 302


def test_without_an_authenticator_the_password_is_enough_when_not_required(client, settings):
    settings.REQUIRE_2FA_FOR_EDITORS = False
    UserFactory(username="boss", is_staff=True, is_superuser=True)

    assert sign_in(client, "boss").status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.fixture
def required(settings):
    settings.REQUIRE_2FA_FOR_EDITORS = True


def editor_with_permission():
    user = UserFactory(username="ed", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="edit_any_post"))
    return user


@pytest.mark.parametrize("make_editor", [
    lambda: UserFactory(username="ed", is_staff=True, is_superuser=True),
    editor_with_permission,
], ids=["superuser", "edit_any_post"])  # fmt: skip
def test_an_editor_without_an_authenticator_is_sent_to_enrol_when_required(
    client, required, make_editor
):
    make_editor()
    assert sign_in(client, "ed").status_code == 302

    response = client.get("/admin/posts/post/", follow=True)

    assert response.redirect_chain[-1] == ("/account/two-factor/", 302)
    assert response.status_code == 200
    assert "<h1>Set up two-factor sign-in</h1>" in response.content.decode()


def test_enrolling_confirms_the_authenticator_and_opens_the_admin(client, required):
    user = UserFactory(username="ed", is_staff=True, is_superuser=True)
    client.force_login(user)
    page = client.get("/account/two-factor/").content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = re.search(r'<code class="enrol-secret">([A-Z2-7=]+)</code>', page).group(1)
    assert "otpauth://totp/blogsite%3Aed?secret=" + secret in page

    assert client.post("/account/two-factor/", {"token": "000000"}).status_code == 200
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    later = timezone.now() + timedelta(seconds=60)
    with time_machine.travel(later, tick=False):  # past the throttle after a wrong code
        response = client.post("/account/two-factor/", {"token": code(device)})

        assert response.status_code == 302 and response["Location"] == "/admin/"
        assert TOTPDevice.objects.get(pk=device.pk).confirmed
        assert client.get("/admin/").status_code == 200


def test_staff_who_are_not_editors_need_no_authenticator_even_when_required(client, required):
    UserFactory(username="writer", is_staff=True)

    assert sign_in(client, "writer").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_enrol_page_is_for_admin_users_only(client):
    client.force_login(UserFactory(username="reader"))
    assert client.get("/account/two-factor/").status_code == 403
    client.logout()
    assert client.get("/account/two-factor/")["Location"].startswith("/admin/login/")
