"""A draft shown through a shared preview link (posts.sharing): no login needed,
never indexed, never stored in any cache."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect

from posts import sharing
from posts.views import PostDetailView


class SharedPreviewView(PostDetailView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        post = sharing.resolve(kwargs["signed"])
        if post is None:
            raise Http404("This preview link has expired or was revoked.")
        if post.is_public:
            return HttpResponseRedirect(post.get_absolute_url())
        self.object = post
        self.is_preview = True  # preview banner, noindex meta, no cache tags
        response = self.render_to_response(self.get_context_data(object=post, shared_link=True))
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Referrer-Policy"] = "no-referrer"  # the link is the secret
        return response
