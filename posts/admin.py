"""The admin for posts, tags and series. Every save and delete goes through posts.services;
who may touch which post is posts.permissions."""

from django.contrib import admin
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import AuthorProfile
from posts import services
from posts.models import Authorship, Post, PostTag, Series, SlugHistory, Tag
from posts.permissions import can_edit_post, editable_posts, is_editor


class AuthorshipInline(admin.TabularInline):
    model = Authorship
    extra = 0
    autocomplete_fields = ["author"]


class PostTagInline(admin.TabularInline):
    model = PostTag
    extra = 0
    autocomplete_fields = ["tag"]


def _kept_rows(formset) -> list[dict]:
    """The formset's rows that stay, in byline/display order (position, then form order)."""
    rows = [
        (form.cleaned_data.get("position") or 0, n, form.cleaned_data)
        for n, form in enumerate(formset.forms)
        if form.cleaned_data and not formset._should_delete_form(form)
    ]
    return [data for _, _, data in sorted(rows, key=lambda r: (r[0], r[1]))]


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
        return editable_posts(request.user, super().get_queryset(request))

    def get_object(self, request, object_id, from_field=None):
        # A post this user may not edit is not found (404), the same as one that
        # does not exist: the admin's default redirect would say "perhaps deleted".
        post = super().get_object(request, object_id, from_field)
        if post is None:
            raise Http404("No such post.")
        return post

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and can_edit_post(request.user, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and can_edit_post(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and can_edit_post(request.user, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The post, its byline and its tags are saved by three calls; derived data
        # (search vector, counts) is refreshed once, after all of them.
        with services.refresh_once():
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        # The form has validated this instance already.
        services.post_save(post=obj, validate=False)

    def save_related(self, request, form, formsets, change):
        form.save_m2m()
        post = form.instance
        for formset in formsets:
            # commit=False: the change message still lists what changed, but the
            # rows are written by the services below, in one pass each.
            formset.save(commit=False)
            if formset.model is Authorship:
                byline = [(row["author"], row.get("role")) for row in _kept_rows(formset)]
                profile = getattr(request.user, "author_profile", None)
                # An author's post stays theirs, even if they left the byline empty.
                mine = profile and profile.pk in {author.pk for author, _ in byline}
                if profile and not mine and not is_editor(request.user):
                    byline.append((profile, Authorship.Role.AUTHOR))
                services.post_set_byline(post=post, authors=byline)
            elif formset.model is PostTag:
                rows = _kept_rows(formset)
                primary = next((row["tag"] for row in rows if row.get("is_primary")), None)
                services.post_set_tags(
                    post=post, tags=[row["tag"] for row in rows], primary=primary
                )

    def delete_model(self, request, obj):
        services.post_delete(post=obj)

    def delete_queryset(self, request, queryset):
        for post in queryset:
            services.post_delete(post=post)


@admin.register(Tag)
class TagAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        services.tag_save(tag=obj)

    def delete_model(self, request, obj):
        services.tag_delete(tag=obj)

    def delete_queryset(self, request, queryset):
        for tag in queryset:
            services.tag_delete(tag=tag)


@admin.register(Series)
class SeriesAdmin(SimpleHistoryAdmin):
    list_display = ["title", "slug"]
    search_fields = ["title"]
    prepopulated_fields = {"slug": ["title"]}

    def save_model(self, request, obj, form, change):
        services.series_save(series=obj)

    def delete_model(self, request, obj):
        services.series_delete(series=obj)

    def delete_queryset(self, request, queryset):
        for series in queryset:
            services.series_delete(series=series)


@admin.register(AuthorProfile)
class AuthorProfileAdmin(SimpleHistoryAdmin):
    list_display = ["display_name", "handle", "user", "updated_at"]
    search_fields = ["display_name", "handle"]
    prepopulated_fields = {"handle": ["display_name"]}
    autocomplete_fields = ["user"]

    def save_model(self, request, obj, form, change):
        services.author_save(author=obj)

    def delete_model(self, request, obj):
        services.author_delete(author=obj)

    def delete_queryset(self, request, queryset):
        for author in queryset:
            services.author_delete(author=author)


@admin.register(SlugHistory)
class SlugHistoryAdmin(admin.ModelAdmin):
    list_display = ["kind", "old_slug", "object_id", "created_at"]
    list_filter = ["kind"]
    search_fields = ["old_slug"]
