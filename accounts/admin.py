from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User

# AuthorProfile's admin lives in posts/admin.py: its writes go through posts.services
# (a changed handle keeps its old URL), and accounts never imports posts.


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    pass
