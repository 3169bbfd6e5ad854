from django.core.management.base import BaseCommand, CommandError

from treaty_app.importing import CorpusError, load_corpus


class Command(BaseCommand):
    help = "Load the shipped first corpus: the 2024 DPRK–Russia treaty and five commentaries. Rerunnable."

    def handle(self, *args, **options):
        try:
            report = load_corpus()
        except CorpusError as error:
            raise CommandError(f"The corpus was not loaded (nothing was changed): {error}") from error
        if options["verbosity"] >= 1:
            self.stdout.write(report.summary())
