"""The post change form: publishing intents, the stale-edit lock and pre-publish checks.

The admin builds one subclass per request (`for_request`) so `clean()` knows who
is saving and which button they pressed.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin import helpers
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from core.rendering import plain_text, reading_minutes, render_body
from posts import checks, revisions
from posts.models import Post, Tag

# Submit buttons of the publishing panel (their `name`), and what they mean.
INTENTS = ("_publish", "_schedule", "_unpublish")


class EditorWidget(forms.Textarea):
    """The body's textarea with the rendered preview beside it (static/js/admin-editor.js
    refreshes the preview as the author types)."""

    def render(self, name, value, attrs=None, renderer=None):
        textarea = super().render(name, value, attrs, renderer)
        html = render_body(value or "")
        return render_to_string(
            "admin/posts/post/editor_widget.html",
            {
                "textarea": textarea,
                "html": mark_safe(html),  # noqa: S308 - sanitised by render_body
                "words": len(plain_text(html).split()),
                "minutes": reading_minutes(html),
            },
        )


class PostAdminForm(forms.ModelForm):
    loaded_version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    schedule_at = forms.DateTimeField(
        required=False,
        label="Publish at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    publish_anyway = forms.BooleanField(
        required=False,
        label="Publish anyway",
        help_text="Editors only: publish although the checks above found problems.",
    )
    overwrite_stale = forms.BooleanField(
        required=False,
        label="Save my version over theirs",
        help_text="Their changes listed above will be replaced by what is in this form.",
    )

    request = None  # set by for_request()
    is_editor = False

    class Meta:
        model = Post
        fields = [
            "title", "body", "summary", "cover_image", "cover_alt", "status", "published_at",
            "slug", "body_format", "series", "series_order", "canonical_url", "source_guid",
        ]  # fmt: skip
        widgets = {
            "body": EditorWidget(
                attrs={
                    "class": "editor__textarea",
                    "rows": 28,
                    "spellcheck": "true",
                    "aria-describedby": "editor-stats",
                }
            ),
            "summary": forms.TextInput(
                attrs={"class": "vLargeTextField summary-input", "data-max": checks.SUMMARY_MAX}
            ),
        }

    @classmethod
    def for_request(cls, form_class, request, *, is_editor: bool):
        return type(
            form_class.__name__, (form_class,), {"request": request, "is_editor": is_editor}
        )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stale: tuple[object, list] | None = None
        self.blocking_problems: list[checks.Problem] = []
        if self.instance.pk:
            self.fields["loaded_version"].initial = self.instance.version
        if not self.is_editor:
            del self.fields["publish_anyway"]
        # The admin's split date/time inputs have no <label> of their own.
        split = getattr(self.fields.get("published_at"), "widget", None)
        for widget, label in zip(getattr(split, "widgets", ()), ("date", "time"), strict=False):
            widget.attrs["aria-label"] = f"Publication {label}"

    def intent(self) -> str | None:
        data = self.request.POST if self.request else {}
        return next((name for name in INTENTS if name in data), None)

    def clean(self) -> dict:
        data = super().clean()
        now = timezone.now()
        intent = self.intent()
        if intent == "_publish":
            data["status"] = Post.Status.PUBLISHED
            data["published_at"] = now
        elif intent == "_schedule":
            at = data.get("schedule_at")
            if not at or at <= now:
                self.add_error("schedule_at", "Pick a time in the future to schedule the post.")
            else:
                data["status"] = Post.Status.PUBLISHED
                data["published_at"] = at
        elif intent == "_unpublish":
            data["status"] = Post.Status.DRAFT
        self._check_version(data)
        self._check_before_publishing(data, now)
        return data

    def _check_version(self, data: dict) -> None:
        post = self.instance
        loaded = data.get("loaded_version")
        if not post.pk or loaded is None or data.get("overwrite_stale"):
            return
        current = Post.objects.filter(pk=post.pk).first()
        if current is None or current.version == loaded:
            return
        who, changes = revisions.stale_edit_changes(current, loaded)
        self.stale = (who, changes)
        name = getattr(who, "get_full_name", lambda: "")() or getattr(who, "username", None)
        raise forms.ValidationError(
            f"{name or 'Someone'} saved this post after you opened it "
            f"(version {loaded} → {current.version}), so your save was refused. "
            "Your text is still in the form. Compare their changes below, then save "
            "again with “Save my version over theirs” ticked, or reload to start from theirs.",
            code="stale",
        )

    def _check_before_publishing(self, data: dict, now) -> None:
        post = self.instance
        if data.get("status") != Post.Status.PUBLISHED:
            return
        was_published = post.pk and post.status == Post.Status.PUBLISHED
        moved = post.published_at != data.get("published_at")
        if was_published and not moved:
            return  # already out; editing it is not publishing it
        problems = checks.problems(
            body_html=render_body(data.get("body", ""), data.get("body_format") or "markdown"),
            summary=data.get("summary", ""),
            has_cover=bool(data.get("cover_image")),
            cover_alt=data.get("cover_alt", ""),
        )
        if not problems:
            return
        if self.is_editor and data.get("publish_anyway"):
            return
        self.blocking_problems = problems
        override = " (or tick “Publish anyway”)" if self.is_editor else ""
        raise forms.ValidationError(
            [f"Not published: fix these first{override}:"] + [p.message for p in problems],
            code="checks",
        )


class PostActionForm(helpers.ActionForm):
    """The list's action bar: which tag to add, and the Editors' override."""

    tag = forms.ModelChoiceField(
        queryset=Tag.objects.order_by("name"), required=False, label="Tag to add"
    )
    publish_anyway = forms.BooleanField(required=False, label="Publish despite problems (Editors)")
