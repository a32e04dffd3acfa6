"""The admin app with the two-factor admin site as `admin.site` (INSTALLED_APPS)."""

from django.contrib.admin.apps import AdminConfig


class TwoFactorAdminConfig(AdminConfig):
    # A dotted path: the site's module imports models, not allowed this early.
    default_site = "accounts.two_factor.TwoFactorAdminSite"
