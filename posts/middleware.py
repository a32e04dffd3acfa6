"""Paths of a site imported here (posts.PathRedirect) answer 301 to their post."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect

from posts.models import Post


class PathRedirectMiddleware:
    """On a 404 for GET/HEAD, look the path up among imported posts' old paths.

    Only 404s pay for the lookup, and the target is the post's current URL, so
    a later slug change is followed. Drafts never leak through an old path.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 404 or request.method not in ("GET", "HEAD"):
            return response
        path = request.path
        # WordPress permalinks end in a slash; a link may have lost it, or gained one.
        candidates = {path, path + "/" if not path.endswith("/") else path.rstrip("/")}
        post = (
            Post.objects.public()
            .filter(path_redirects__old_path__in=candidates)
            .only("slug")
            .first()
        )
        if post is None:
            return response
        return HttpResponsePermanentRedirect(post.get_absolute_url())
