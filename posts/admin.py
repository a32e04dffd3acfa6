"""The admin for posts, tags and series. Every save and delete goes through posts.services;
who may touch which post is posts.permissions."""

from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import AuthorProfile
from posts import admin_views, checks, revisions, services
from posts.admin_forms import PostActionForm, PostAdminForm
from posts.models import (
    Authorship,
    PathRedirect,
    Post,
    PostTag,
    PreviewLink,
    Series,
    SlugHistory,
    Tag,
)
from posts.permissions import can_edit_post, editable_posts, is_editor


class LabelledInlineFormSet(BaseInlineFormSet):
    """Tabular rows show their labels only in the table head; screen readers get one per
    field ("Tag 2: position") so no control is unnamed."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        row = "new" if index is None else index + 1
        noun = str(self.model._meta.verbose_name).capitalize()
        for name, field in form.fields.items():
            label = "delete" if name == "DELETE" else str(field.label or name).lower()
            field.widget.attrs.setdefault("aria-label", f"{noun} {row}: {label}")


class SortableInline(admin.TabularInline):
    """Rows are dragged (or moved with their ↑/↓ buttons) into order; static/js/admin-sortable.js
    writes each row's `position` before the form is sent."""

    extra = 0
    classes = ["sortable-inline"]
    formset = LabelledInlineFormSet


class AuthorshipInline(SortableInline):
    model = Authorship
    autocomplete_fields = ["author"]
    fields = ["author", "role", "position"]
    verbose_name = "author"
    verbose_name_plural = "byline (drag rows or use ↑/↓ to order it)"

    def get_extra(self, request, obj=None, **kwargs):
        # A new post starts with the writer on its byline (initial data: PostAdmin).
        return 1 if obj is None and getattr(request.user, "author_profile", None) else 0


class PostTagInline(SortableInline):
    model = PostTag
    autocomplete_fields = ["tag"]
    fields = ["tag", "is_primary", "position"]
    verbose_name = "tag"
    verbose_name_plural = "tags (the first is primary unless you tick one)"


def _kept_rows(formset) -> list[dict]:
    """The formset's rows that stay, in byline/display order (position, then form order)."""
    rows = [
        (form.cleaned_data.get("position") or 0, n, form.cleaned_data)
        for n, form in enumerate(formset.forms)
        if form.cleaned_data and not formset._should_delete_form(form)
    ]
    return [data for _, _, data in sorted(rows, key=lambda r: (r[0], r[1]))]


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("draft", "Draft"), ("scheduled", "Scheduled"), ("published", "Published")]

    def queryset(self, request, queryset):
        now = timezone.now()
        published = Q(status=Post.Status.PUBLISHED)
        if self.value() == "draft":
            return queryset.exclude(published)
        if self.value() == "scheduled":
            return queryset.filter(published, published_at__gt=now)
        if self.value() == "published":
            return queryset.filter(published, published_at__lte=now)
        return queryset


@admin.register(Post)
class PostAdmin(SimpleHistoryAdmin):
    form = PostAdminForm
    action_form = PostActionForm
    change_form_template = "admin/posts/post/change_form.html"
    list_display = ["title", "status_label", "byline", "primary_tag", "when", "last_edited"]
    list_filter = [
        StatusFilter,
        ("authors", admin.RelatedOnlyFieldListFilter),
        ("tags", admin.RelatedOnlyFieldListFilter),
        ("series", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["title", "summary", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["series"]
    inlines = [AuthorshipInline, PostTagInline]
    actions = ["publish_now", "unpublish", "add_tag", "duplicate_as_draft"]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["title", "body"], "classes": ["writing"]}),
        (
            "Summary and cover",
            {"fields": ["summary", "cover_image", "cover_alt"], "classes": ["details"]},
        ),
        ("Publishing", {"fields": ["status", "published_at"], "classes": ["details"]}),
        (
            "More options",
            {
                "fields": [
                    "slug",
                    "body_format",
                    "series",
                    "series_order",
                    "canonical_url",
                    "source_guid",
                ],
                "classes": ["collapse"],
            },
        ),
    ]

    class Media:
        css = {"all": ["css/admin-editor.css", "css/pygments.css"]}
        js = ["js/admin-editor.js", "js/admin-sortable.js"]

    # --- Permissions -------------------------------------------------------------------

    def get_queryset(self, request):
        qs = (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch("authorships", queryset=Authorship.objects.select_related("author")),
                Prefetch("post_tags", queryset=PostTag.objects.select_related("tag")),
            )
        )
        return editable_posts(request.user, qs)

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

    # --- The list --------------------------------------------------------------------

    @admin.display(description="Status", ordering="status")
    def status_label(self, post: Post) -> str:
        return render_to_string("admin/posts/post/status_label.html", {"post": post})

    @admin.display(description="Authors")
    def byline(self, post: Post) -> str:
        return ", ".join(a.author.display_name for a in post.authorships.all())

    @admin.display(description="Primary tag")
    def primary_tag(self, post: Post) -> str:
        return next((r.tag.name for r in post.post_tags.all() if r.is_primary), "—")

    @admin.display(description="Published / scheduled", ordering="published_at")
    def when(self, post: Post):
        return post.published_at if post.status == Post.Status.PUBLISHED else None

    @admin.display(description="Last edited", ordering="updated_at")
    def last_edited(self, post: Post):
        return post.updated_at

    # --- The form -------------------------------------------------------------------

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return PostAdminForm.for_request(form, request, is_editor=is_editor(request.user))

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        profile = getattr(request.user, "author_profile", None)
        new = obj.pk is None and request.method == "GET"
        if profile and new and isinstance(inline, AuthorshipInline):
            kwargs["initial"] = [
                {"author": profile.pk, "role": Authorship.Role.AUTHOR, "position": 0}
            ]
        return kwargs

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        context.update(
            editor_context(
                request, post=obj, form=form, draft_key=f"post-{obj.pk}" if obj else "post-new"
            )
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            # The post, its byline and its tags are saved by three calls; derived
            # data (search vector, counts) is refreshed once, after all of them.
            with services.refresh_once():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except services.StaleEdit as stale:
            # Someone saved between our check and our write: nothing was written.
            # The browser still holds the text (static/js/admin-editor.js keeps it).
            messages.error(request, f"{stale} Nothing was saved; your text can be restored.")
            return redirect(request.path)

    def save_model(self, request, obj, form, change):
        # The form has validated this instance already.
        expected = None
        if change and not form.cleaned_data.get("overwrite_stale"):
            expected = form.cleaned_data.get("loaded_version")
        services.post_save(post=obj, expected_version=expected, validate=False)

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
        # One revision per explicit save, with the byline and tags just written.
        revisions.record(post=post)

    def delete_model(self, request, obj):
        services.post_delete(post=obj)

    def delete_queryset(self, request, queryset):
        for post in queryset:
            services.post_delete(post=post)

    # --- Extra pages ------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("preview/", wrap(admin_views.preview), name="posts_post_preview"),
            path(
                "<path:object_id>/presence/",
                wrap(admin_views.presence),
                name="posts_post_presence",
            ),
            path(
                "<path:object_id>/duplicate/",
                wrap(admin_views.duplicate),
                name="posts_post_duplicate",
            ),
            path("<path:object_id>/share/", wrap(admin_views.share), name="posts_post_share"),
            path(
                "<path:object_id>/share/revoke/",
                wrap(admin_views.revoke),
                name="posts_post_share_revoke",
            ),
            path(
                "<path:object_id>/revisions/<int:revision_id>/restore/",
                wrap(admin_views.revision_restore),
                name="posts_post_revision_restore",
            ),
            *super().get_urls(),
        ]

    def history_view(self, request, object_id, extra_context=None):
        """The revisions page: compare any two and restore one (through the services)."""
        context = {**self.admin_site.each_context(request), "opts": self.opts}
        return admin_views.revision_list(request, object_id, context=context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history's revert writes the row directly; restores go through the services.
        return redirect(reverse("admin:posts_post_history", args=[object_id]))

    # --- Actions ----------------------------------------------------------------------

    def _may_publish(self, request, post: Post) -> list[str]:
        problems = checks.problems(
            body_html=post.body_html,
            summary=post.summary,
            has_cover=bool(post.cover_image),
            cover_alt=post.cover_alt,
        )
        if problems and is_editor(request.user) and request.POST.get("publish_anyway"):
            return []
        return [p.message for p in problems]

    @admin.action(description="Publish now", permissions=["change"])
    def publish_now(self, request, queryset):
        done, refused = 0, []
        for post in queryset:
            problems = self._may_publish(request, post)
            if problems:
                refused.append(f"“{post.title}”: {' '.join(problems)}")
                continue
            services.post_publish(post=post)
            revisions.record(post=post)
            done += 1
        if done:
            self.message_user(request, f"Published {done} post(s).", messages.SUCCESS)
        for line in refused:
            self.message_user(request, f"Not published: {line}", messages.ERROR)

    @admin.action(description="Unpublish (back to draft)", permissions=["change"])
    def unpublish(self, request, queryset):
        n = 0
        for post in queryset.filter(status=Post.Status.PUBLISHED):
            services.post_unpublish(post=post)
            revisions.record(post=post)
            n += 1
        self.message_user(request, f"Moved {n} post(s) back to draft.", messages.SUCCESS)

    @admin.action(description="Add the chosen tag", permissions=["change"])
    def add_tag(self, request, queryset):
        try:
            tag = PostActionForm.base_fields["tag"].clean(request.POST.get("tag"))
        except ValidationError:
            tag = None
        if tag is None:
            self.message_user(request, "Choose the tag to add first.", messages.ERROR)
            return
        n = 0
        for post in queryset:
            rows = list(post.post_tags.select_related("tag").order_by("position"))
            if any(r.tag_id == tag.pk for r in rows):
                continue
            primary = next((r.tag for r in rows if r.is_primary), None)
            services.post_set_tags(post=post, tags=[r.tag for r in rows] + [tag], primary=primary)
            # A new version, so the revision with the added tag is one of its own.
            services.post_save(post=post)
            revisions.record(post=post)
            n += 1
        self.message_user(request, f"Added “{tag.name}” to {n} post(s).", messages.SUCCESS)

    @admin.action(description="Duplicate as draft", permissions=["change"])
    def duplicate_as_draft(self, request, queryset):
        for post in queryset:
            revisions.record(post=services.post_duplicate(post=post))
        self.message_user(request, f"Duplicated {queryset.count()} post(s).", messages.SUCCESS)


def editor_context(request, *, post: Post | None, form, draft_key: str) -> dict:
    """What the change form's panels show besides the fields."""
    context = {
        "draft_key": draft_key,
        "preview_url": reverse("admin:posts_post_preview"),
        "summary_max": checks.SUMMARY_MAX,
        "site_time_zone": timezone.get_current_timezone_name(),
        "is_editor": is_editor(request.user),
        "stale": getattr(form, "stale", None),
        "blocking_problems": getattr(form, "blocking_problems", []),
        "initial_problems": [],
        "others_editing": [],
        "shared_link": None,
        "revision_count": 0,
    }
    if post is not None and post.pk:
        context.update(
            presence_url=reverse("admin:posts_post_presence", args=[post.pk]),
            others_editing=admin_views.others_editing(post, request.user, touch=True),
            initial_problems=checks.problems(
                body_html=post.body_html,
                summary=post.summary,
                has_cover=bool(post.cover_image),
                cover_alt=post.cover_alt,
            ),
            shared_link=PreviewLink.objects.filter(post=post).first(),
            revision_count=post.revisions.count(),
        )
    return context


class ServiceWritesAdmin(SimpleHistoryAdmin):
    """Saves and deletes one object at a time through posts.services: `writes` names
    the object's keyword and its save and delete functions."""

    writes: tuple[str, Callable, Callable]

    def save_model(self, request, obj, form, change):
        name, save, _ = self.writes
        save(**{name: obj})

    def delete_model(self, request, obj):
        name, _, delete = self.writes
        delete(**{name: obj})

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Tag)
class TagAdmin(ServiceWritesAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    writes = ("tag", services.tag_save, services.tag_delete)


@admin.register(Series)
class SeriesAdmin(ServiceWritesAdmin):
    list_display = ["title", "slug"]
    search_fields = ["title"]
    prepopulated_fields = {"slug": ["title"]}
    writes = ("series", services.series_save, services.series_delete)


@admin.register(AuthorProfile)
class AuthorProfileAdmin(ServiceWritesAdmin):
    list_display = ["display_name", "handle", "user", "updated_at"]
    search_fields = ["display_name", "handle"]
    prepopulated_fields = {"handle": ["display_name"]}
    autocomplete_fields = ["user"]
    writes = ("author", services.author_save, services.author_delete)


@admin.register(SlugHistory)
class SlugHistoryAdmin(admin.ModelAdmin):
    list_display = ["kind", "old_slug", "object_id", "created_at"]
    list_filter = ["kind"]
    search_fields = ["old_slug"]


@admin.register(PathRedirect)
class PathRedirectAdmin(admin.ModelAdmin):
    """Old paths of imported posts (import_feed); each answers 301 to its post."""

    list_display = ["old_path", "post", "created_at"]
    search_fields = ["old_path", "post__title"]
    autocomplete_fields = ["post"]
