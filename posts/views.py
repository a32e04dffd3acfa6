"""Reader pages: generic views sharing `ReaderPageMixin`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponsePermanentRedirect
from django.shortcuts import render
from django.views.generic import DetailView, ListView

from accounts.models import AuthorProfile
from core import limits
from core.cache import tags as cache_tags
from core.links import site_url
from posts import selectors
from posts.models import Post, Series, Tag
from posts.pagination import Page, PeekPaginator
from posts.permissions import can_preview_post
from posts.querysets import PreparedListing, PreparedQuery
from posts.slugs import resolve_old_slug


class CachedPageMixin:
    """Reader pages: tell the page cache what the response shows.

    `page_cache_tags()` returning None keeps the response out of the shared cache.
    `cache_query_params` names the query parameters the page reads: the page
    cache keys on those alone (core.cache.page.normal_query).
    """

    cache_query_params: tuple[str, ...] = ()

    def page_cache_tags(self, context: dict[str, Any]) -> set[str] | None:
        return {cache_tags.POSTS}

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)
        tags = self.page_cache_tags(context)
        if tags is not None:
            response.cache_tags = tags
        return response


class ReaderPageMixin(CachedPageMixin):
    """Listing pages: COUNT-free pagination, canonical URL, post cards' cache tags."""

    paginate_by = 10
    context_object_name = "posts"
    cache_query_params = ("page",)

    def paginate_queryset(self, queryset: QuerySet, page_size: int):
        page = PeekPaginator(page_size).page(queryset, self.request.GET.get(self.page_kwarg))
        return None, page, page.object_list, page.has_other_pages

    def get_canonical_url(self, page: Page | None) -> str:
        url = site_url(self.request.path)
        return f"{url}?page={page.number}" if page and page.number > 1 else url

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["canonical_url"] = self.get_canonical_url(context.get("page_obj"))
        return context

    def page_cache_tags(self, context: dict[str, Any]) -> set[str] | None:
        return {cache_tags.POSTS} | cache_tags.for_posts(context["object_list"])


class SluggedObjectMixin:
    """Find the page's object by slug; a slug it used to have answers 301 to the current URL.

    The redirect goes straight to the current URL whatever the number of renames,
    since the history maps every old slug to the object's id.
    """

    slug_kind: str  # a SlugHistory.Kind value
    lookup_field = "slug"
    lookup_url_kwarg = "slug"
    object: Model

    def get_lookup_queryset(self) -> QuerySet:
        raise NotImplementedError

    def get_redirect_queryset(self) -> QuerySet:
        return self.get_lookup_queryset()

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        value = kwargs[self.lookup_url_kwarg]
        found = self.lookup_query().instances(value=value)
        if not found:
            return self.moved_permanently(value)
        self.object = found[0]
        return super().get(request, *args, **kwargs)

    @classmethod
    def lookup_query(cls) -> PreparedQuery:
        """The lookup by slug, compiled once per view class (not per request):
        `get_lookup_queryset()` must not depend on the request."""
        if "_lookup_query" not in cls.__dict__:
            view = cls()
            cls._lookup_query = PreparedQuery(
                lambda *, value: (
                    view.get_lookup_queryset()
                    .filter(**{cls.lookup_field: value})
                    .order_by("pk")[:1]
                ),
                value=str,
            )
        return cls.__dict__["_lookup_query"]

    def moved_permanently(self, value: str) -> HttpResponse:
        object_id = resolve_old_slug(kind=self.slug_kind, slug=value)
        target = self.get_redirect_queryset().filter(pk=object_id).first() if object_id else None
        if target is None:
            raise Http404("No such page.")
        query = self.request.META.get("QUERY_STRING")
        url = target.get_absolute_url() + (f"?{query}" if query else "")
        return HttpResponsePermanentRedirect(url)  # redirects carry no cache tags


class HomeView(ReaderPageMixin, ListView):
    template_name = "posts/home.html"

    def get_queryset(self) -> PreparedListing:
        return selectors.listing()


class PostDetailView(SluggedObjectMixin, CachedPageMixin, DetailView):
    template_name = "posts/post_detail.html"
    context_object_name = "post"
    slug_kind = "post"
    is_preview = False

    def get_lookup_queryset(self) -> QuerySet[Post]:
        # Every status: a draft's own authors may preview it at its real URL.
        # Its byline and tags come with the related posts' (get_context_data).
        return Post.objects.defer("body", "search_vector").select_related("series")

    def get_redirect_queryset(self) -> QuerySet[Post]:
        return Post.objects.public()

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        if self.is_preview:
            response["Cache-Control"] = "private, no-store"
        return response

    def get_object(self, queryset: QuerySet | None = None) -> Post:
        post = self.object
        if not post.is_public:
            if not can_preview_post(self.request.user, post):
                raise Http404("No such post.")
            self.is_preview = True
        return post

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        post = self.object
        older, newer = selectors.adjacent_posts(post)
        related = selectors.related_posts(post)
        selectors.attach_card_data([post, *related])
        context.update(
            is_preview=self.is_preview,
            previous_post=older,
            next_post=newer,
            related_posts=related,
            series_posts=selectors.series_nav(post),
            canonical_url=post.canonical_url or site_url(post.get_absolute_url()),
        )
        return context

    def page_cache_tags(self, context: dict[str, Any]) -> set[str] | None:
        if self.is_preview:
            return None
        post = context["post"]
        tags = {cache_tags.POSTS} | cache_tags.for_posts([post, *context["related_posts"]])
        neighbours = [context["previous_post"], context["next_post"], *context["series_posts"]]
        tags |= {cache_tags.post(p.pk) for p in neighbours if p is not None}
        if post.series_id:
            tags.add(cache_tags.series(post.series_id))
        return tags


class TagListView(ReaderPageMixin, ListView):
    template_name = "posts/tag_list.html"
    context_object_name = "tags"
    paginate_by = 100

    def get_queryset(self) -> QuerySet[Tag]:
        return selectors.tags_with_public_counts()

    def page_cache_tags(self, context: dict[str, Any]) -> set[str] | None:
        return {cache_tags.POSTS, cache_tags.TAGS}


class TagDetailView(SluggedObjectMixin, ReaderPageMixin, ListView):
    template_name = "posts/tag_detail.html"
    slug_kind = "tag"

    def get_lookup_queryset(self) -> QuerySet[Tag]:
        return Tag.objects.all()

    def get_queryset(self) -> PreparedListing:
        return selectors.listing("tag", self.object.pk)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tag=self.object, **kwargs)

    def page_cache_tags(self, context: dict[str, Any]) -> set[str] | None:
        return super().page_cache_tags(context) | {cache_tags.tag(self.object.pk)}


class SeriesDetailView(SluggedObjectMixin, ReaderPageMixin, ListView):
    template_name = "posts/series_detail.html"
    slug_kind = "series"
    paginate_by = 50

    def get_lookup_queryset(self) -> QuerySet[Series]:
        return Series.objects.all()

    def get_queryset(self) -> QuerySet[Post]:
        return selectors.posts_in_series(self.object)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(series=self.object, **kwargs)

    def page_cache_tags(self, context: dict[str, Any]) -> set[str] | None:
        return super().page_cache_tags(context) | {cache_tags.series(self.object.pk)}


SEARCH_QUERY_MAX_LENGTH = 200


class SearchView(ReaderPageMixin, ListView):
    """Full-text search. Each query that reaches the database counts against the
    client's SEARCH_RATE_LIMIT (cached result pages are free); an over-long query
    is refused with a 400 rather than silently cut, so what is searched is what
    the reader typed."""

    template_name = "posts/search.html"
    cache_query_params = ("page", "q")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if len(self.get_query()) > SEARCH_QUERY_MAX_LENGTH:
            return self.query_too_long()
        if self.get_query():
            refused = limits.rate_limited(request, group="search", rate=settings.SEARCH_RATE_LIMIT)
            if refused is not None:
                return refused
        return super().get(request, *args, **kwargs)

    def query_too_long(self) -> HttpResponse:
        context = {
            "query": "",
            "error": f"Search terms can be at most {SEARCH_QUERY_MAX_LENGTH} characters long.",
            "canonical_url": site_url(self.request.path),
        }
        return render(self.request, self.template_name, context, status=400)

    def get_query(self) -> str:
        return self.request.GET.get("q", "").strip()

    def get_queryset(self) -> PreparedListing | QuerySet[Post]:
        query = self.get_query()
        return selectors.search_hits(query) if query else Post.objects.none()

    def get_canonical_url(self, page: Page | None) -> str:
        return site_url(self.request.path)  # result pages are noindex; one URL for all

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(query=self.get_query(), **kwargs)


class AuthorListView(ReaderPageMixin, ListView):
    template_name = "posts/author_list.html"
    context_object_name = "authors"
    paginate_by = 100

    def get_queryset(self) -> QuerySet[AuthorProfile]:
        return selectors.authors_with_public_posts()

    def page_cache_tags(self, context: dict[str, Any]) -> set[str] | None:
        return {cache_tags.POSTS, cache_tags.AUTHORS}


class AuthorDetailView(SluggedObjectMixin, ReaderPageMixin, ListView):
    template_name = "posts/author_detail.html"
    slug_kind = "author"
    lookup_field = "handle"
    lookup_url_kwarg = "handle"

    def get_lookup_queryset(self) -> QuerySet[AuthorProfile]:
        return AuthorProfile.objects.all()

    def get_queryset(self) -> PreparedListing:
        return selectors.listing("author", self.object.pk)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(author=self.object, **kwargs)

    def page_cache_tags(self, context: dict[str, Any]) -> set[str] | None:
        return super().page_cache_tags(context) | {cache_tags.author(self.object.pk)}
