"""/sitemap.xml (an index of paginated sections) and /robots.txt.

django.contrib.sites is not installed and the request's host may be an internal
one behind a proxy, so every URL is built from settings.SITE_URL instead.

Listing pages (home, tag, author, series) take as lastmod the newest publication
among their posts or their own last edit, whichever is later: both changes drop
the cached sitemap through the POSTS/TAGS/AUTHORS/series tags it carries.
"""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.contrib.sitemaps.views import SitemapIndexItem, x_robots_tag
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Max, Min, Q, QuerySet
from django.db.models.functions import Greatest
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuthorProfile
from core.cache import tags as cache_tags
from core.links import site_url
from posts import selectors
from posts.models import Post, Series, Tag

# Well under the protocol's 50,000 URLs and 50 MB per file. Small enough that a
# section renders in tens of milliseconds and adds ~3 MB to a worker at its peak
# (5,000 took ~0.9 s and ~16 MB), after every edit that drops the cached sections.
SITEMAP_PAGE_SIZE = 1000
SITEMAP_CACHE_TAGS = frozenset({cache_tags.POSTS, cache_tags.TAGS, cache_tags.AUTHORS})


def _public_posts_q(prefix: str) -> Q:
    """Post.objects.public(), seen through a relation (`prefix` ends in "__")."""
    return Q(
        **{f"{prefix}status": Post.Status.PUBLISHED, f"{prefix}published_at__lte": timezone.now()}
    )


class SiteUrlSitemap(Sitemap):
    limit = SITEMAP_PAGE_SIZE

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None) -> str:
        # Host plus any path prefix: Sitemap builds "<protocol>://<domain><location>".
        parts = urlsplit(settings.SITE_URL)
        return f"{parts.netloc}{parts.path}"

    def item_cache_tags(self, items: list) -> set[str]:
        """Tags, beyond SITEMAP_CACHE_TAGS, for what one page of this section shows."""
        return set()


class HomeSitemap(SiteUrlSitemap):
    changefreq = "hourly"
    priority = 1.0

    def items(self) -> list[str]:
        return ["posts:home"]

    def location(self, item: str) -> str:
        return reverse(item)

    def lastmod(self, item: str):
        return Post.objects.public().aggregate(latest=Max("published_at"))["latest"]


class IdRangePages:
    """Sitemap pages of `limit` consecutive ids from the lowest public post's, in id order.

    Django's Paginator counts every row for the number of pages and reads page N
    past N-1 pages of skipped rows; these need only the lowest and highest id
    (two index lookups) and one id range a page, however many posts there are.
    A page may hold fewer than `limit` (ids of drafts and deleted posts).
    """

    def __init__(self, items: QuerySet, limit: int) -> None:
        bounds = items.aggregate(low=Min("pk"), high=Max("pk"))
        self.items, self.limit, self.low = items, limit, bounds["low"]
        self.num_pages = 0 if self.low is None else (bounds["high"] - self.low) // limit + 1

    def page(self, number) -> SimpleNamespace:
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(f"No page {number!r}.") from None  # the view's 404
        if not 1 <= number <= max(self.num_pages, 1):
            raise EmptyPage(f"No page {number}.")
        start = (self.low or 0) + (number - 1) * self.limit
        rows = self.items.filter(pk__gte=start, pk__lt=start + self.limit).order_by("pk")
        return SimpleNamespace(object_list=rows)


class PostSitemap(SiteUrlSitemap):
    changefreq = "weekly"
    priority = 0.8

    def items(self) -> QuerySet[Post]:
        return Post.objects.public().only("pk", "slug", "updated_at")

    @property
    def paginator(self) -> IdRangePages:
        return IdRangePages(self.items(), self.limit)

    def lastmod(self, post: Post):
        return post.updated_at

    def item_cache_tags(self, items: list[Post]) -> set[str]:
        # A post edit (new slug, new lastmod) drops only the post's own tag.
        return {cache_tags.post(p.pk) for p in items}


class _ListingSitemap(SiteUrlSitemap):
    """Objects with at least one public post, annotated with the newest one's date."""

    changefreq = "daily"
    priority = 0.5
    posts_path: str  # from the model to Post, ending in "__"

    def base_queryset(self) -> QuerySet:
        raise NotImplementedError

    def items(self) -> QuerySet:
        newest = Max(f"{self.posts_path}published_at", filter=_public_posts_q(self.posts_path))
        return (
            self.base_queryset()
            .annotate(newest_post=newest)
            .filter(newest_post__isnull=False)
            .annotate(sitemap_lastmod=Greatest("updated_at", "newest_post"))
            .order_by("pk")
        )

    def lastmod(self, obj):
        return obj.sitemap_lastmod


class _CountedSitemap(SiteUrlSitemap):
    """Tags and authors with public posts, from their stored counts (no row counting).

    No lastmod: it would have to aggregate every post of every tag or author.
    """

    changefreq = "daily"
    priority = 0.5

    def items(self) -> QuerySet:
        raise NotImplementedError


class TagSitemap(_CountedSitemap):
    def items(self) -> QuerySet[Tag]:
        return selectors.tags_with_public_counts().only("pk", "slug").order_by("pk")


class AuthorSitemap(_CountedSitemap):
    def items(self) -> QuerySet[AuthorProfile]:
        return selectors.authors_with_public_posts().only("pk", "handle").order_by("pk")


class SeriesSitemap(_ListingSitemap):
    posts_path = "posts__"

    def base_queryset(self) -> QuerySet[Series]:
        return Series.objects.only("pk", "slug", "updated_at")

    def item_cache_tags(self, items: list[Series]) -> set[str]:
        # Series edits drop only the series' own tag.
        return {cache_tags.series(s.pk) for s in items}


SITEMAPS: dict[str, type[SiteUrlSitemap]] = {
    "pages": HomeSitemap,
    "posts": PostSitemap,
    "tags": TagSitemap,
    "authors": AuthorSitemap,
    "series": SeriesSitemap,
}


@x_robots_tag
def sitemap_index(request: HttpRequest) -> TemplateResponse:
    """One <sitemap> per section page. No lastmod: it would change on every post edit."""
    entries = []
    for section, sitemap_class in SITEMAPS.items():
        location = site_url(reverse("sitemap_section", kwargs={"section": section}))
        entries.append(SitemapIndexItem(location))
        pages = sitemap_class().paginator.num_pages
        entries.extend(SitemapIndexItem(f"{location}?p={n}") for n in range(2, pages + 1))
    response = TemplateResponse(
        request, "sitemap_index.xml", {"sitemaps": entries}, content_type="application/xml"
    )
    response.cache_tags = set(SITEMAP_CACHE_TAGS)
    return response


def sitemap_section(request: HttpRequest, section: str) -> TemplateResponse:
    """One page (?p=N) of one section; 404 for an unknown section or page."""
    if section not in SITEMAPS:
        raise Http404(f"No sitemap section {section!r}.")
    response = sitemap_views.sitemap(request, sitemaps=SITEMAPS, section=section)
    items = [url["item"] for url in response.context_data["urlset"]]
    response.cache_tags = set(SITEMAP_CACHE_TAGS) | SITEMAPS[section]().item_cache_tags(items)
    return response


# The query parameters each reads: the page cache keys on those alone.
sitemap_index.cache_query_params = ()
sitemap_section.cache_query_params = ("p",)


def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Allow: /",
        "Disallow: /admin/",
        "",
        f"Sitemap: {site_url(reverse('sitemap'))}",
    ]
    response = HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    # Depends on settings only; an empty tag set still lets the page cache keep it.
    response.cache_tags = set()
    return response


robots_txt.cache_query_params = ()
