from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from treaty_app import rules
from treaty_app.akn_writing import treaty_document
from treaty_app.models import Treaty


class Command(BaseCommand):
    help = (
        "Write a treaty as one Akoma Ntoso 3.0 document (its FRBR metadata, preamble, articles and the wording "
        "held of them), to standard output or to a file. import_treaty reads it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Slug of the treaty to export.")
        parser.add_argument("--format", choices=["akn"], default="akn", help="Akoma Ntoso 3.0 XML (the only one).")
        parser.add_argument("-o", "--output", help="The file to write; standard output when not given.")

    def handle(self, *args, slug, output, **options):
        try:
            # A slug no treaty can have fails inside the database driver otherwise.
            slug = rules.clean_text(slug, field="the treaty slug", max_length=rules.max_length_of(Treaty, "slug"))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        treaty = Treaty.objects.filter(slug=slug).first()
        if treaty is None:
            raise CommandError(f"There is no treaty with the slug {slug!r}.")
        document = treaty_document(treaty)
        if output is None:
            self.stdout.write(document.decode("utf-8"), ending="")
            return
        try:
            Path(output).write_bytes(document)
        except OSError as error:
            raise CommandError(f"{output} could not be written ({error.strerror}).") from None
        if options["verbosity"] >= 1:
            self.stdout.write(f"{treaty.short_title} written to {output} ({len(document)} bytes).")
