import sys
import time

from django.core.management.base import BaseCommand

from posts import doctor


class Command(BaseCommand):
    help = (
        "Check what needs an operator: database, cache, page-cache invalidation, stale "
        "scheduled posts, URL history, internal links, alt text, media files and "
        "deployment settings. Exits 1 on any FAIL (WARN alone exits 0)."
    )
    # The deployment checks are one of the report's lines; running every system
    # check first would also stop the report before it starts when one fails.
    requires_system_checks = []
    requires_migrations_checks = False

    def handle(self, *args, **options):
        started = time.perf_counter()
        styles = {
            doctor.OK: self.style.SUCCESS,
            doctor.WARN: self.style.WARNING,
            doctor.FAIL: self.style.ERROR,
        }

        def show(result: doctor.Result) -> None:
            label = styles[result.level](f"{result.level:<4}")
            self.stdout.write(f"{label} {result.name}: {result.message}")

        results = doctor.run(on_result=show)
        counts = {level: sum(r.level == level for r in results) for level in styles}
        self.stdout.write(
            f"{counts[doctor.OK]} ok, {counts[doctor.WARN]} warnings, "
            f"{counts[doctor.FAIL]} failures in {time.perf_counter() - started:.1f}s"
        )
        if counts[doctor.FAIL]:
            sys.exit(1)
