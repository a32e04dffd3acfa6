import os
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import path

# The same bytes nginx serves as a file (bench/run.sh saves the post page there).
PAGE_BYTES = Path(os.environ["BENCH_PAGE_FILE"]).read_bytes()


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE_BYTES)


urlpatterns = [path("", page)]
