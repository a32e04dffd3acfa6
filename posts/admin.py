from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from posts.models import Authorship, Post, PostTag, Series, SlugHistory, Tag


class AuthorshipInline(admin.TabularInline):
    model = Authorship
    extra = 0
    autocomplete_fields = ["author"]


class PostTagInline(admin.TabularInline):
    model = PostTag
    extra = 0
    autocomplete_fields = ["tag"]


@admin.register(Post)
class PostAdmin(SimpleHistoryAdmin):
    list_display = ["title", "status", "published_at", "updated_at", "reading_minutes"]
    list_filter = ["status", "published_at", "series"]
    search_fields = ["title", "summary", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "published_at"
    autocomplete_fields = ["series"]
    inlines = [AuthorshipInline, PostTagInline]


@admin.register(Tag)
class TagAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Series)
class SeriesAdmin(SimpleHistoryAdmin):
    list_display = ["title", "slug"]
    search_fields = ["title"]
    prepopulated_fields = {"slug": ["title"]}


@admin.register(SlugHistory)
class SlugHistoryAdmin(admin.ModelAdmin):
    list_display = ["kind", "old_slug", "object_id", "created_at"]
    list_filter = ["kind"]
    search_fields = ["old_slug"]
