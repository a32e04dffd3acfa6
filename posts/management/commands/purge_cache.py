from django.core.management.base import BaseCommand

from core.cache.store import get_store, purge


class Command(BaseCommand):
    help = "Drop every page from the full-page cache (content is untouched)."

    def handle(self, *args, **options):
        store = get_store()
        try:
            dropped = purge()
        except store.errors as exc:
            self.stderr.write(self.style.ERROR(f"Could not reach the page cache: {exc}"))
            raise SystemExit(1) from exc
        self.stdout.write(self.style.SUCCESS(f"Page cache purged ({dropped} keys dropped)."))
