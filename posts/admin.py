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


def is_editor(user) -> bool:
    """Editors (and superusers) may edit every post; authors only their own."""
    return user.is_superuser or user.has_perm("posts.edit_any_post")


@admin.register(Post)
class PostAdmin(SimpleHistoryAdmin):
    list_display = ["title", "status", "published_at", "updated_at", "reading_minutes"]
    list_filter = ["status", "published_at", "series"]
    search_fields = ["title", "summary", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "published_at"
    autocomplete_fields = ["series"]
    inlines = [AuthorshipInline, PostTagInline]

    def get_queryset(self, request):
        posts = super().get_queryset(request)
        if is_editor(request.user):
            return posts
        return posts.filter(authorships__author__user=request.user).distinct()

    def _may_touch(self, request, obj) -> bool:
        if obj is None or is_editor(request.user):
            return True
        return obj.authorships.filter(author__user=request.user).exists()

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._may_touch(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_touch(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_touch(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # An author's new post is theirs, even if they left the byline empty.
        profile = getattr(request.user, "author_profile", None)
        post = form.instance
        if (
            profile
            and not is_editor(request.user)
            and not post.authorships.filter(author=profile).exists()
        ):
            Authorship.objects.create(post=post, author=profile, position=0)


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
