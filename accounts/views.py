"""Author pages: the index and one author's profile with their posts."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.views.generic import ListView

from accounts.models import AuthorProfile
from posts import selectors
from posts.cache import tags as cache_tags
from posts.models import Post
from posts.views import ReaderPageMixin, SluggedObjectMixin


class AuthorListView(ReaderPageMixin, ListView):
    template_name = "accounts/author_list.html"
    context_object_name = "authors"
    paginate_by = 100

    def get_queryset(self) -> QuerySet[AuthorProfile]:
        return selectors.authors_with_public_posts()

    def page_cache_tags(self, context: dict[str, Any]) -> set[str] | None:
        return {cache_tags.POSTS, cache_tags.AUTHORS}


class AuthorDetailView(SluggedObjectMixin, ReaderPageMixin, ListView):
    template_name = "accounts/author_detail.html"
    slug_kind = "author"
    lookup_field = "handle"
    lookup_url_kwarg = "handle"

    def get_lookup_queryset(self) -> QuerySet[AuthorProfile]:
        return AuthorProfile.objects.all()

    def get_queryset(self) -> QuerySet[Post]:
        return selectors.posts_for_author(self.object)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(author=self.object, **kwargs)

    def page_cache_tags(self, context: dict[str, Any]) -> set[str] | None:
        return super().page_cache_tags(context) | {cache_tags.author(self.object.pk)}
