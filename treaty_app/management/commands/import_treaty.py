from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from treaty_app import rules
from treaty_app.importing import CorpusError, read_capture
from treaty_app.models import LanguageVersion
from treaty_app.treaty_text import (
    MAX_FILE_BYTES,
    choose_treaty,
    create_treaty,
    import_treaty,
    parse_official_text,
)


class Command(BaseCommand):
    help = (
        "Import an official text of a treaty (its title, then a “Preamble” block and “Article N” headings; or an "
        "Akoma Ntoso 3.0 document), replacing the wording of the provisions it holds and placing the annotations "
        "on them again. The file's title must be the treaty's unless --treaty names it. See the README for the "
        "formats."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file", help="A UTF-8 file: plain text in the treaty text format, or Akoma Ntoso 3.0 XML (read as XML "
                         "when it starts with “<”)."
        )
        parser.add_argument("--treaty", help="Slug of the treaty to import into (or of the new treaty, with --new).")
        parser.add_argument("--new", action="store_true", help="Create the treaty from the file, with its provisions.")
        parser.add_argument(
            "--dry-run", action="store_true",
            help="Say what would change and where each annotation would be placed, and write nothing.",
        )
        parser.add_argument(
            "--language",
            help="BCP 47 tag of the file's language (ru, ko…): when it is not the treaty's, the file is that "
                 "language version of the provisions it holds. Headings may be in that language: "
                 "“Статья N”, “Преамбула”; “제N조”, “전문”.",
        )
        parser.add_argument(
            "--status", choices=LanguageVersion.Status.values, default=LanguageVersion.Status.AUTHENTIC,
            help="What a language version is (default: authentic).",
        )
        parser.add_argument("--source", default="", help="Where the language version comes from (default: the file's name).")

    def handle(self, *args, file, treaty, new, dry_run, language, status, source, **options):
        if language is not None:
            try:
                language = rules.clean_language_tag(language, field="--language")
            except ValidationError as error:
                raise CommandError(f"{file} was not imported (nothing was changed): {error.messages[0]}") from None
            if new:
                raise CommandError("--language imports a language version into a treaty that exists: not with --new.")
        try:
            text = read_capture(file, max_bytes=MAX_FILE_BYTES)
            parsed = parse_official_text(text)
            if new:
                _, report = create_treaty(parsed=parsed, slug=treaty, dry_run=dry_run)
            else:
                target, note = choose_treaty(parsed, slug=treaty)
                report = import_treaty(text, treaty=target, dry_run=dry_run, parsed=parsed, language=language,
                                       status=status, source=source or Path(file).name)
                if note:
                    report.notes.insert(0, note)
        except CorpusError as error:
            raise CommandError(f"{file} was not imported (nothing was changed): {error}") from error
        if options["verbosity"] >= 1:
            for line in report.notes:
                self.stdout.write(line)
            self.stdout.write(report.summary())
