from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.generic import DetailView, ListView

from posts.cache import tags as cache_tags
from posts.models import Post


class CachedPageMixin:
    """Reader pages: tell the page cache what the response shows."""

    def page_cache_tags(self, context) -> set[str]:
        return {cache_tags.POSTS}

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        response.cache_tags = self.page_cache_tags(context)
        return response


class HomeView(CachedPageMixin, ListView):
    template_name = "posts/home.html"
    paginate_by = 10
    context_object_name = "posts"

    def get_queryset(self):
        return Post.objects.public().latest_first().with_card_data()

    def page_cache_tags(self, context) -> set[str]:
        return {cache_tags.POSTS} | cache_tags.for_posts(context["posts"])


class PostDetailView(CachedPageMixin, DetailView):
    template_name = "posts/post_detail.html"
    context_object_name = "post"

    def get_queryset(self):
        return Post.objects.public().with_card_data()

    def page_cache_tags(self, context) -> set[str]:
        return {cache_tags.POSTS} | cache_tags.for_posts([context["post"]])


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the cache answer; 503 naming what failed."""
    from django.core.cache import cache

    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        from django_redis import get_redis_connection

        get_redis_connection("default").ping()
        checks["cache"] = "ok"
    except NotImplementedError:  # not a Redis cache: the file cache
        cache.set("readyz", "1", 5)
        checks["cache"] = "ok" if cache.get("readyz") == "1" else "error"
    except Exception as exc:  # noqa: BLE001
        checks["cache"] = f"error: {exc.__class__.__name__}"
    ok = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", **checks}, status=200 if ok else 503
    )
