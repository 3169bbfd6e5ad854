"""python manage.py export_annotations OUT [--base-url URL] [--all | --published] [--format jsonld|csv]"""

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError

from annotations.exporting import export_scope, write_collection, write_csv
from treaty_app.site import site_url

LABELS = {
    "live": "Glossa annotations: all not deleted",
    "all": "Glossa annotations: all, deleted ones included",
    "published": "Glossa annotations: published",
}


class Command(BaseCommand):
    help = (
        "Write the annotations as one W3C Web Annotation JSON-LD document (an AnnotationCollection "
        "embedding every annotation), or as CSV for spreadsheets. By default everything not deleted, "
        "private, team and hidden annotations included, with the tag vocabulary and the people "
        "(never passwords): it is the curators' backup, which import_annotations restores. The file "
        "is written whole or not at all."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "output", help="The file to write (replaced only once complete), or - for standard output."
        )
        parser.add_argument(
            "--base-url",
            help="The site's public address; every id is an IRI under it (default: the SITE_URL setting).",
        )
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument(
            "--all", dest="scope", action="store_const", const="all", help="Include deleted annotations too."
        )
        scope.add_argument(
            "--published", dest="scope", action="store_const", const="published",
            help="Only what the public sees.",
        )
        parser.add_argument(
            "--format", dest="output_format", choices=["jsonld", "csv"],
            help="jsonld (the default) or csv (UTF-8 with a byte-order mark, for Excel); "
                 "a file name ending in .csv implies csv.",
        )

    def handle(self, *args, output, base_url, scope, output_format, **options):
        base_url = base_url or site_url()
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise CommandError(
                f"--base-url must be an http(s) address such as https://glossa.example, not {base_url!r}."
            )
        scope = scope or "live"
        output_format = output_format or ("csv" if output.lower().endswith(".csv") else "jsonld")
        queryset = export_scope(scope)

        def write(stream):
            if output_format == "csv":
                return write_csv(stream, queryset, base_url=base_url)
            # The curators' backup carries the tag vocabulary and the people; what the public sees does not.
            return write_collection(
                stream, queryset, base_url=base_url, label=LABELS[scope], backup=scope != "published"
            )

        if output == "-":
            count = write(_Unwrapped(self.stdout))
            self.stderr.write(f"Exported {count} annotations.")
            return
        # Excel reads a CSV as UTF-8 only when it starts with a byte-order mark.
        encoding = "utf-8-sig" if output_format == "csv" else "utf-8"
        count = _write_atomically(Path(output), write, encoding=encoding)
        self.stdout.write(f"Exported {count} annotations to {output}.")


class _Unwrapped:
    """The command's stdout without its added line endings."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text):
        self.wrapper.write(text, ending="")


def _write_atomically(path, write, *, encoding):
    """Write through `write(stream)` to a temporary file beside `path`, then put it in place: a failed
    export never leaves a truncated file that looks like a backup."""
    directory = path.resolve().parent
    if not directory.is_dir():
        raise CommandError(f"No directory {directory} to write {path.name} in.")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".part")
    try:
        # newline="": the csv module writes its own \r\n; JSON has no newlines to translate.
        with os.fdopen(handle, "w", encoding=encoding, newline="") as stream:
            count = write(stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count
