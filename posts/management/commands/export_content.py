"""manage.py export_content PATH: the site's content, portable (docs/content-format.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from posts.importing.content import export_content


class Command(BaseCommand):
    help = "Write every author, tag, series, post, URL history entry and upload to PATH/."

    def add_arguments(self, parser):
        parser.add_argument("path", help="A directory: content.json and media/ are written there.")

    def handle(self, *args, path: str, **options):
        try:
            report = export_content(path=Path(path))
        except OSError as exc:
            raise CommandError(f"export_content: {exc}") from None
        for name in report.missing_media:
            self.stderr.write(
                f"warning: {name} is referenced but missing from storage; not exported"
            )
        summary = ", ".join(f"{n} {key.replace('_', ' ')}" for key, n in report.counts.items())
        self.stdout.write(f"Exported to {path}: {summary}.")
