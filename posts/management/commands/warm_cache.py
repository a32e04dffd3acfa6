import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand
from django.test import Client

from accounts.models import AuthorProfile
from posts.models import Post, Series, Tag


class Command(BaseCommand):
    help = "Pre-fill the page cache: home, indexes, tags, authors, series, newest posts, feeds."

    def add_arguments(self, parser):
        parser.add_argument("--posts", type=int, default=100, help="How many of the newest posts.")

    def urls(self, newest: int) -> list[str]:
        urls = ["/", "/tags/", "/authors/", "/feed/", "/feed/atom/", "/feed.json", "/sitemap.xml"]
        urls += [t.get_absolute_url() for t in Tag.objects.only("slug")]
        urls += [a.get_absolute_url() for a in AuthorProfile.objects.only("handle")]
        urls += [s.get_absolute_url() for s in Series.objects.only("slug")]
        urls += [
            p.get_absolute_url() for p in Post.objects.public().latest_first().only("slug")[:newest]
        ]
        return urls

    def handle(self, *args, posts: int, **options):
        site = urlsplit(settings.SITE_URL)
        # In-process requests, as an anonymous reader would make them.
        client = Client(SERVER_NAME=site.hostname, SERVER_PORT=str(site.port or 80))
        secure = site.scheme == "https"
        urls = self.urls(posts)
        started = time.monotonic()
        outcome = {"miss": 0, "hit": 0, "skip": 0, "unavailable": 0, "failed": 0}
        for n, url in enumerate(urls, 1):
            response = client.get(url, secure=secure)
            state = (
                response.get("X-Page-Cache", "failed") if response.status_code == 200 else "failed"
            )
            outcome[state] = outcome.get(state, 0) + 1
            if state == "failed":
                self.stderr.write(f"  {response.status_code} {url}")
            if n % 50 == 0 or n == len(urls):
                self.stdout.write(f"  {n}/{len(urls)} pages")
        took = time.monotonic() - started
        summary = ", ".join(f"{v} {k}" for k, v in outcome.items() if v)
        self.stdout.write(
            self.style.SUCCESS(f"Warmed {len(urls)} pages in {took:.1f}s: {summary}.")
        )
        if outcome["unavailable"]:
            self.stderr.write(self.style.WARNING("The page cache was unreachable for some pages."))
