from django.core.management.base import BaseCommand, CommandError

from treaty_app.importing import CorpusError, find_treaty, import_treaty, read_capture


class Command(BaseCommand):
    help = (
        "Import an official text of a treaty (a “Preamble” block, then “Article N” headings), replacing the "
        "wording of the provisions it holds and marking them as full text. See the README for the format."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A UTF-8 plain-text file in the treaty text format.")
        parser.add_argument("--treaty", help="Slug of the treaty (default: the only treaty).")

    def handle(self, *args, file, treaty, **options):
        try:
            treaty = find_treaty(treaty)
            report = import_treaty(read_capture(file), treaty=treaty)
        except CorpusError as error:
            raise CommandError(f"{file} was not imported (nothing was changed): {error}") from error
        if options["verbosity"] >= 1:
            for note in report.notes:
                self.stdout.write(note)
            self.stdout.write(report.summary())
