from django.urls import path

from posts import views

app_name = "posts"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("posts/<slug:slug>/", views.PostDetailView.as_view(), name="post_detail"),
    path("tags/", views.TagListView.as_view(), name="tag_list"),
    path("tags/<slug:slug>/", views.TagDetailView.as_view(), name="tag_detail"),
    path("series/<slug:slug>/", views.SeriesDetailView.as_view(), name="series_detail"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("authors/", views.AuthorListView.as_view(), name="author_list"),
    path("authors/<slug:handle>/", views.AuthorDetailView.as_view(), name="author_detail"),
]
