from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from posts import views as post_views

admin.site.site_header = f"{settings.SITE_NAME} admin"
admin.site.site_title = settings.SITE_NAME

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", post_views.healthz, name="healthz"),
    path("readyz", post_views.readyz, name="readyz"),
    path("", include("accounts.urls")),
    path("", include("posts.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
