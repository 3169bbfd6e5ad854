"""python manage.py import_annotations FILE [--create-users]"""

from django.core.management.base import BaseCommand, CommandError

from annotations.w3c_import import W3CImportError, import_annotations
from annotations.w3c_reader import parse


class Command(BaseCommand):
    help = (
        "Import W3C Web Annotations (JSON-LD): an AnnotationCollection with embedded pages, as "
        "export_annotations writes (with its people and tags), an AnnotationPage, a list, or one "
        "annotation (Hypothesis's JSON-LD, the W3C model's samples). All or nothing, and idempotent: "
        "annotations already here are left as they are, new ones keep the number in their id when it "
        "is free. What Glossa does not keep of each annotation is listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The JSON-LD file to read.")
        parser.add_argument(
            "--create-users", action="store_true",
            help="Create missing authors as inactive accounts with no password and no role "
                 "(without it, a missing author stops the import; people listed in a backup are "
                 "created either way).",
        )

    def handle(self, *args, file, create_users, **options):
        try:
            with open(file, encoding="utf-8-sig") as stream:
                text = stream.read()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        except UnicodeDecodeError as error:
            raise CommandError(f"{file} is not UTF-8 text: {error.reason} at byte {error.start}.") from None
        try:
            document = parse(text)
        except W3CImportError as error:
            raise CommandError(f"{file}: {error}. Nothing was imported.") from None
        reason = f"Imported from {file}"
        try:
            report = import_annotations(document, create_users=create_users, change_reason=reason)
        except W3CImportError as error:
            raise CommandError(f"{file}: {error}. Nothing was imported.") from None

        write = self.stdout.write
        write(f"Imported {report.created} annotations from {file}; {report.existing} were already here.")
        for item_id, pk in report.renumbered:
            write(f"  {item_id}: its number was taken, imported as annotation {pk}.")
        for item_id, placement in report.reanchored:
            write(f"  {item_id}: no longer matched the wording at its place: now {placement}.")
        for item_id, note in report.notes:
            write(f"  {item_id}: {note}.")
        if report.unkept:
            write("  Not kept (Glossa has no place for these):")
            for index, item_id, unkept in report.unkept:
                write(f"    item {index} ({item_id}): {'; '.join(unkept)}.")
        if report.users_created:
            write(f"  Created inactive users: {', '.join(report.users_created)}.")
        if report.people_created:
            write(f"  Restored people: {', '.join(report.people_created)}.")
        for username, role in report.roles_missing:
            write(f"  {username}: there is no role “{role}” here; not given.")
        for username, what, here, there in report.people_differences:
            write(f"  {username} is here already, left as it is: {what} {here!r} here, {there!r} in the file.")
        if report.tags_created:
            write(f"  Created tags: {', '.join(report.tags_created)}.")
        for slug, what, here, there in report.tag_differences:
            write(f"  Tag {slug} is here already, left as it is: {what} {here!r} here, {there!r} in the file.")
        if report.people_created or report.users_created:
            write("  Not restored: passwords (never exported): set each with "
                  "`python manage.py changepassword NAME`.")
        if report.created:
            write(f"  Not restored: earlier history: each imported annotation has one record, “{reason}”.")
