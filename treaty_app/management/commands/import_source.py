from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from treaty_app.importing import CorpusError, find_treaty, import_source, parse_date, read_capture


class Command(BaseCommand):
    help = (
        "Import a captured commentary: clean it, split it into paragraphs, find its references to the "
        "treaty's provisions and propose excerpt links for curator review."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A UTF-8 text capture of the commentary's page.")
        parser.add_argument("--treaty", help="Slug of the treaty it discusses (default: the only treaty).")
        parser.add_argument("--title", default="")
        parser.add_argument("--author", default="")
        parser.add_argument("--outlet", default="")
        parser.add_argument("--date", default="", help="Publication date, YYYY-MM-DD.")
        parser.add_argument("--url", default="")
        parser.add_argument("--language", default="en")
        parser.add_argument("--notes", default="")

    def handle(self, *args, file, treaty, **options):
        try:
            treaty = find_treaty(treaty)
            source, report = import_source(
                read_capture(file),
                capture_name=Path(file).name,
                treaty=treaty,
                title=options["title"],
                author=options["author"],
                outlet=options["outlet"],
                published_on=parse_date(options["date"], what="--date"),
                url=options["url"],
                language=options["language"],
                notes=options["notes"],
            )
        except CorpusError as error:
            raise CommandError(f"{file} was not imported (nothing was changed): {error}") from error
        if options["verbosity"] >= 1:
            self.stdout.write(f"{source.display_title}: {report.summary()}")
