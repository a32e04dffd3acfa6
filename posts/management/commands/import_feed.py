"""manage.py import_feed PATH: RSS, Atom or a WordPress export file into posts."""

from __future__ import annotations

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from posts.importing import ImportFailed, ImportReport, import_feed, read_feed

# Below this, a non-terminal run prints no progress lines at all.
PROGRESS_MIN_ITEMS = 200


class Command(BaseCommand):
    help = (
        "Import posts from an RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or WordPress (WXR) file. "
        "Re-running it updates changed items and leaves the rest alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The feed or WordPress export file.")
        parser.add_argument(
            "--author", metavar="HANDLE", help="Put every post on this existing author."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; write nothing."
        )
        parser.add_argument(
            "--status",
            choices=["draft", "as-is"],
            default="as-is",
            help="draft: import every post as a draft; as-is (default): keep the source's.",
        )

    def handle(self, *args, path: str, author: str | None, dry_run: bool, status: str, **opts):
        try:
            feed = read_feed(path)
            report = import_feed(
                feed=feed,
                author_handle=author,
                as_draft=status == "draft",
                dry_run=dry_run,
                progress=self.progress_bar(len(feed.items)),
            )
        except ImportFailed as exc:
            raise CommandError(f"import_feed: {exc}") from None
        except (DatabaseError, ValidationError) as exc:
            # Rolled back: the database is as it was before the run.
            reason = " ".join(str(exc).split())
            raise CommandError(f"import_feed: nothing imported, a write failed: {reason}") from None
        self.print_report(report, kind=feed.kind, dry_run=dry_run)

    def progress_bar(self, total: int):
        tty = sys.stderr.isatty()
        if not tty and total <= PROGRESS_MIN_ITEMS:
            return None
        last = [-1]

        def show(done: int, total: int) -> None:
            percent = 100 * done // total if total else 100
            if percent == last[0] or (not tty and percent % 10 and done != total):
                return
            last[0] = percent
            filled = percent // 5
            line = f"[{'#' * filled}{'.' * (20 - filled)}] {done}/{total} items"
            self.stderr.write(f"\r{line}" if tty else line, ending="" if tty else "\n")
            if tty and done == total:
                self.stderr.write("")

        return show

    def print_report(self, report: ImportReport, *, kind: str, dry_run: bool) -> None:
        prefix = "Dry run, nothing written: would have " if dry_run else ""
        self.stdout.write(
            f"{prefix}{report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {len(report.skipped)} skipped "
            f"({kind}; {report.authors_created} new authors, {report.tags_created} new tags)."
        )
        for skip in report.skipped:
            self.stdout.write(f"  skipped {skip.title!r}: {skip.reason}")
        for note in report.notes:
            self.stdout.write(f"  note: {note}")
