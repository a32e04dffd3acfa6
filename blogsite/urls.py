from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import two_factor
from core import health
from posts import feeds, images_views, sitemaps
from posts.preview_views import SharedPreviewView

# Django answers an oversized request body with a 400; core.limits makes it a 413.
handler400 = "core.limits.bad_request"

admin.site.site_header = f"{settings.SITE_NAME} admin"
admin.site.site_title = settings.SITE_NAME

urlpatterns = [
    # Before the admin's own URLs, which would answer these paths with a 404.
    path("admin/posts/upload-image/", images_views.upload_image, name="upload_image"),
    # The one-time set-password link printed by `manage.py create_author`
    # (admin-styled templates from django.contrib.admin).
    path(
        "admin/password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "admin/password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("admin/", admin.site.urls),
    path("account/two-factor/", two_factor.enrol, name="two_factor_enrol"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Feeds, sitemap and robots.txt (posts/feeds.py, posts/sitemaps.py).
    path("feed/", feeds.PostFeed(), name="feed"),
    path("feed/atom/", feeds.AtomPostFeed(), name="feed_atom"),
    path("feed.json", feeds.JsonPostFeed(), name="feed_json"),
    path("tags/<slug:slug>/feed/", feeds.TagFeed(), name="tag_feed"),
    path("authors/<slug:handle>/feed/", feeds.AuthorFeed(), name="author_feed"),
    path("sitemap.xml", sitemaps.sitemap_index, name="sitemap"),
    path("sitemap-<slug:section>.xml", sitemaps.sitemap_section, name="sitemap_section"),
    path("robots.txt", sitemaps.robots_txt, name="robots_txt"),
    # A draft shared by a signed link (posts.sharing).
    path("preview/<str:signed>/", SharedPreviewView.as_view(), name="preview_link"),
    path("", include("posts.urls")),
]

if settings.SERVE_MEDIA:
    from django.urls import re_path
    from django.views.static import serve

    # Uploaded covers and avatars, for single-host setups (`make run`). Behind a
    # CDN or object storage, set SERVE_MEDIA=false and serve MEDIA_ROOT there.
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]
