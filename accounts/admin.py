from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import AuthorProfile, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    pass


@admin.register(AuthorProfile)
class AuthorProfileAdmin(SimpleHistoryAdmin):
    list_display = ["display_name", "handle", "user", "updated_at"]
    search_fields = ["display_name", "handle"]
    prepopulated_fields = {"handle": ["display_name"]}
    autocomplete_fields = ["user"]
