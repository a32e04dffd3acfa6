"""manage.py import_content PATH: restore an export_content directory."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from posts.importing import ImportFailed
from posts.importing.restore import restore_content


class Command(BaseCommand):
    help = (
        "Restore content written by export_content into an empty database (keeping every id), "
        "or with --merge add it beside existing content."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The export directory (or its content.json).")
        parser.add_argument(
            "--merge",
            action="store_true",
            help="Add to a database that has content; rows whose slug, handle or username "
            "exists are kept as they are.",
        )

    def handle(self, *args, path: str, merge: bool, **options):
        try:
            report = restore_content(path=Path(path), merge=merge)
        except ImportFailed as exc:
            raise CommandError(f"import_content: {exc}") from None
        except (DatabaseError, ValidationError, OSError) as exc:
            reason = " ".join(str(exc).split())
            raise CommandError(
                f"import_content: nothing imported, a write failed: {reason}"
            ) from None
        created = ", ".join(f"{n} {key.replace('_', ' ')}" for key, n in report.created.items())
        self.stdout.write(f"Imported from {path}: {created}.")
        kept = {key: n for key, n in report.kept.items() if n}
        if kept:
            listed = ", ".join(f"{n} {key.replace('_', ' ')}" for key, n in kept.items())
            self.stdout.write(f"Already present, left as they were: {listed}.")
