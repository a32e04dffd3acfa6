from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("authors/", views.AuthorListView.as_view(), name="author_list"),
    path("authors/<slug:handle>/", views.AuthorDetailView.as_view(), name="author_detail"),
]
