"""Optional TOTP two-factor sign-in for the admin (django-otp).

A staff user with a confirmed authenticator must give its code with their
password. With REQUIRE_2FA_FOR_EDITORS, editors (superusers, or anyone who may
edit any post) without an authenticator are sent to enrol before the admin opens.
"""

from __future__ import annotations

from base64 import b32encode

import django_otp
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

EDITOR_PERMISSION = "posts.edit_any_post"
CODE_WIDGET = forms.TextInput(
    attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
)


def authenticator(user) -> TOTPDevice | None:
    """The user's confirmed TOTP device, if they have enrolled one."""
    if not user.is_authenticated:
        return None
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def is_editor(user) -> bool:
    return user.is_active and (user.is_superuser or user.has_perm(EDITOR_PERMISSION))


def _enrolment_required(user) -> bool:
    return settings.REQUIRE_2FA_FOR_EDITORS and user.is_staff and is_editor(user)


def must_enrol(user) -> bool:
    return user.is_authenticated and _enrolment_required(user) and authenticator(user) is None


def second_factor_satisfied(user) -> bool:
    if authenticator(user) is not None:
        return user.is_verified()  # signed in with the code (django_otp middleware)
    return not _enrolment_required(user)


class TwoFactorLoginForm(OTPAuthenticationFormMixin, AdminAuthenticationForm):
    """The admin sign-in: password, plus the code when the user has an authenticator."""

    otp_token = forms.CharField(
        label="Authentication code",
        required=False,
        max_length=8,
        widget=CODE_WIDGET,
        help_text="Only if you have set up two-factor sign-in: the 6 digits your app shows.",
    )
    otp_error_messages = {
        **OTPAuthenticationFormMixin.otp_error_messages,
        "token_required": "This account has two-factor sign-in: enter the 6-digit code "
        "from your authenticator app.",
        "invalid_token": "That authentication code is not right (or was already used). "
        "Enter the code your app shows now.",
    }

    def clean(self):
        cleaned_data = super().clean()  # the password, and is_staff
        device = authenticator(self.get_user())
        if device is not None:
            cleaned_data["otp_device"] = device.persistent_id
            self.clean_otp(self.get_user())  # sets user.otp_device: django_otp.login
        return cleaned_data


class TwoFactorAdminSite(admin.AdminSite):
    login_form = TwoFactorLoginForm
    login_template = "admin/two_factor_login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and second_factor_satisfied(request.user)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if request.method == "GET" and must_enrol(request.user):
            return redirect("two_factor_enrol")
        return super().login(request, extra_context)


class EnrolForm(forms.Form):
    token = forms.CharField(label="Code from your app", max_length=8, widget=CODE_WIDGET)


@login_required(login_url="admin:login")
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator: show its secret, confirm it with a first code."""
    user = request.user
    if not user.is_staff:
        raise PermissionDenied("Two-factor sign-in is for admin users.")
    if authenticator(user) is not None:
        return redirect("admin:index")
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = EnrolForm(request.POST or None)
    if form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            django_otp.login(request, device)
            return redirect("admin:index")
        form.add_error("token", "That code did not match. Check the time on your phone and "
                                "enter the code your app shows now.")  # fmt: skip
    context = {
        "form": form,
        "secret": b32encode(device.bin_key).decode(),
        "otpauth_url": device.config_url,
        "required": must_enrol(user),
    }
    response = render(request, "accounts/two_factor_enrol.html", context)
    response["Cache-Control"] = "private, no-store"  # the page shows a secret
    return response
