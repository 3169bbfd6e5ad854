"""Backups: dumpdata/loaddata of the whole site, and the curators' export restored into an empty database."""

import io
import json
import tempfile
from datetime import datetime
from pathlib import Path

from django.apps import apps
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.test import TestCase, TransactionTestCase

from annotations import writes
from annotations.models import Annotation, Tag
from annotations.roles import grant_role_permissions
from treaty_app.importing import load_corpus
from treaty_app.models import Provision

from .factories import annotation_row, make_user


def history_rows():
    """Every history row of both apps, by table, as plain values (times to the millisecond: JSON keeps no more)."""
    def plain(value):
        return value.replace(microsecond=value.microsecond // 1000 * 1000) if isinstance(value, datetime) else value

    models = [model for label in ("annotations", "treaty_app") for model in apps.get_app_config(label).get_models()
              if model.__name__.startswith("Historical")]
    return {
        model.__name__: [{key: plain(value) for key, value in row.items()} for row in model.objects.order_by("pk").values()]
        for model in models
    }


class DumpLoadHistoryTests(TransactionTestCase):
    """A JSON dumpdata of treaty_app, annotations and auth, flushed and loaded back, brings the history back as it was."""

    serialized_rollback = True  # the migrations' rows (role groups, content versions) for the tests after
    reset_sequences = True  # history ids from 1, as in a site's first backup: what PostgreSQL's sequence collided with

    def test_loaddata_adds_no_history_of_its_own(self):
        """After dumpdata (JSON), flush and loaddata, every history table holds exactly the rows it held."""
        load_corpus()
        article = Provision.objects.get(slug="art-4")
        ana, cora = make_user("ana"), make_user("cora", role="Curators", is_staff=True)
        tag = Tag.objects.create(name="alliance", slug="alliance")
        note = writes.create(author=ana, target=article, start=0, end=10, exact=article.text[:10], body="A note.",
                             tags=[tag])
        writes.submit(note.pk, by=ana)
        writes.publish(Annotation.objects.filter(pk=note.pk), curator=cora)
        writes.edit(note.pk, by=ana, version=None, body="A better note.", tags=[tag])  # a pending revision
        annotation_row(parent=note, author=cora, body="A reply.", visibility="public")
        before = history_rows()
        self.assertGreater(len(before["HistoricalAnnotation_tags"]), 0)

        with tempfile.TemporaryDirectory() as directory:
            fixture = Path(directory) / "site.json"
            call_command(
                "dumpdata", "treaty_app", "annotations", "auth", "--natural-foreign",
                # Permissions are re-made by flush's post_migrate; groups refer to them by natural key.
                "--exclude", "auth.permission", "--format", "json", "--output", str(fixture), verbosity=0,
            )
            # dumpdata's model order varies from run to run; put the history rows first, an order it
            # writes at times and the one that failed: each annotation's tags then made a record.
            objects = json.loads(fixture.read_text())
            objects.sort(key=lambda row: not row["model"].split(".")[1].startswith("historical"))
            fixture.write_text(json.dumps(objects))
            call_command("flush", "--no-input", verbosity=0)
            call_command("loaddata", str(fixture), verbosity=0)

        self.assertEqual(history_rows(), before)


class RestoreTests(TransactionTestCase):
    """The curators' export, imported into an empty database, gives the same site back: annotations, tags, people."""

    serialized_rollback = True  # the migrations' rows (role groups, content versions) for the tests after

    def make_site(self):
        load_corpus()
        article, preamble = Provision.objects.get(slug="art-4"), Provision.objects.get(slug="preamble")
        ana = make_user("ana", first_name="Ana", last_name="Lima", email="ana@example.org")
        make_user("bob", is_active=False)  # an account that is not active
        cora = make_user("cora", role="Curators", is_staff=True, first_name="Cora")
        make_user("dan", role=None)  # an account with no role
        security = Tag.objects.create(name="security", slug="security", colour="#2e86c1",
                                      description="Defence and alliances.")
        assistance = Tag.objects.create(name="military assistance", slug="military-assistance", colour="#c0392b",
                                        description="Help in arms.", parent=security)
        Tag.objects.create(name="unused", slug="unused", colour="#7d3c98", description="Nobody has used it yet.",
                           parent=security)
        Tag.objects.create(name="санкции", slug="санкции")

        def words(provision, phrase):
            start = provision.text.index(phrase)
            return {"target": provision, "start": start, "end": start + len(phrase), "exact": phrase}

        published = writes.create(author=ana, body="A *note*.", tags=[assistance], **words(article, "state of war"))
        writes.submit(published.pk, by=ana)
        writes.publish(Annotation.objects.filter(pk=published.pk), curator=cora)
        writes.edit(published.pk, by=ana, version=None, body="A better note.", tags=[security])  # pending revision
        writes.reply(published.pk, author=cora, body="Agreed.")
        team = writes.create(author=ana, body="Team note.", **words(preamble, "unipolar world order"))
        writes.reply(team.pk, author=cora, body="A reply to a team note.")
        deleted = writes.create(author=ana, body="Deleted by its author.", **words(article, "armed attack"))
        writes.delete(deleted.pk, by=ana)
        retired = writes.create(author=ana, body="Retired by a curator.", **words(article, "Article 51"))
        writes.retire(Annotation.objects.filter(pk=retired.pk), curator=cora)

    def restore(self):
        """Make the site, export it, flush, restore the roles and the corpus, import: (before, after) of each kind."""
        self.make_site()
        with tempfile.TemporaryDirectory() as directory:
            backup = Path(directory) / "backup.jsonld"
            call_command("export_annotations", str(backup), "--all", stdout=io.StringIO())
            before = (backup.read_bytes(), tags(), people())
            call_command("flush", "--no-input", verbosity=0)
            grant_role_permissions(Group, Permission)
            load_corpus()
            out = io.StringIO()
            call_command("import_annotations", str(backup), stdout=out)
            call_command("export_annotations", str(backup), "--all", stdout=io.StringIO())
            after = (backup.read_bytes(), tags(), people())
        return before, after, out.getvalue()

    def test_the_second_export_is_the_first_byte_for_byte(self):
        """Exported, flushed, restored and exported again: the same bytes (annotations, revision, deletions, tags, people)."""
        (backup, _, _), (again, _, _), _ = self.restore()
        self.assertEqual(again, backup)

    def test_tags_come_back_with_colour_description_and_parent(self):
        """Every tag, the unused one too, has its colour, description and parent again."""
        (_, before, _), (_, after, _), _ = self.restore()
        self.assertEqual(after, before)

    def test_people_come_back_with_their_roles_and_no_password(self):
        """Every account has its names, email, flags and groups again, and no usable password."""
        (_, _, before), (_, _, after), _ = self.restore()
        self.assertEqual(after, [(*person[:-1], False) for person in before])

    def test_the_report_says_what_it_cannot_restore(self):
        """The import names the people and tags it restored, and says passwords and history are not restored, and how to mend."""
        *_, output = self.restore()
        file = output.split("annotations from ", 1)[1].split(";", 1)[0]
        self.assertEqual(
            [line.strip() for line in output.splitlines()[1:]],
            ["Restored people: ana, bob, cora, dan.",
             "Created tags: security, санкции, military-assistance, unused.",
             "Not restored: passwords (never exported): set each with `python manage.py changepassword NAME`.",
             f"Not restored: earlier history: each imported annotation has one record, “Imported from {file}”."],
        )

def tags():
    return list(Tag.objects.order_by("slug").values_list("slug", "name", "colour", "description", "parent__slug"))


def people():
    return [
        (user.username, user.first_name, user.last_name, user.email, user.is_staff, user.is_active,
         sorted(group.name for group in user.groups.all()), user.has_usable_password())
        for user in User.objects.order_by("username").prefetch_related("groups")
    ]


def export_document(*args):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "backup.jsonld"
        call_command("export_annotations", str(path), *args, stdout=io.StringIO())
        return json.loads(path.read_bytes())


def import_document(document):
    with tempfile.NamedTemporaryFile(suffix=".jsonld") as file:
        file.write(json.dumps(document).encode())
        file.flush()
        out = io.StringIO()
        call_command("import_annotations", file.name, stdout=out)
        return out.getvalue()


class BackupContentTests(TestCase):
    """What the curators' export carries besides annotations, and what a restore says of what is here already."""

    @classmethod
    def setUpTestData(cls):
        cls.ana = make_user("ana", first_name="Ana", email="ana@example.org")
        cls.security = Tag.objects.create(name="security", slug="security", colour="#2e86c1", description="Defence.")
        Tag.objects.create(name="alliances", slug="alliances", parent=cls.security)

    def test_people_carry_names_roles_and_flags_never_a_password(self):
        """Each person is exactly username, names, email, roles, staff and active: nothing of the password."""
        self.assertEqual(export_document()["glossa:people"], [{
            "username": "ana", "firstName": "Ana", "lastName": "", "email": "ana@example.org", "roles": ["Analysts"],
            "staff": False, "active": True,
        }])

    def test_every_tag_is_listed_with_its_vocabulary(self):
        """Every tag, used or not, with colour, description and parent, by slug."""
        self.assertEqual(export_document("--all")["glossa:tags"], [
            {"slug": "alliances", "name": "alliances", "colour": "#f4d03f", "description": "", "parent": "security"},
            {"slug": "security", "name": "security", "colour": "#2e86c1", "description": "Defence.", "parent": None},
        ])

    def test_the_published_export_carries_no_people_and_no_vocabulary(self):
        """What the public sees has neither list."""
        self.assertEqual({"glossa:people", "glossa:tags"} & set(export_document("--published")), set())

    def test_what_is_here_already_is_left_as_it_is_and_reported(self):
        """A tag and an account that are here already keep their values; each difference is reported."""
        document = export_document()
        document["glossa:tags"][1]["colour"] = "#000000"
        document["glossa:people"][0]["roles"] = ["Curators"]
        output = import_document(document)
        self.assertEqual(
            ([line.strip() for line in output.splitlines()[1:]], Tag.objects.get(slug="security").colour),
            (["ana is here already, left as it is: roles ['Analysts'] here, ['Curators'] in the file.",
              "Tag security is here already, left as it is: colour '#2e86c1' here, '#000000' in the file."],
             "#2e86c1"),
        )

    def test_a_role_that_is_not_here_is_reported_not_given(self):
        """A person whose role does not exist here is created without it, and the report says so."""
        document = export_document()
        document["glossa:people"].append({"username": "eve", "roles": ["Editors", "Analysts"]})
        output = import_document(document)
        self.assertEqual(
            ("eve: there is no role “Editors” here; not given." in output,
             list(User.objects.get(username="eve").groups.values_list("name", flat=True))),
            (True, ["Analysts"]),
        )


class FixtureFormatTests(TestCase):
    """Why dumpdata is not the backup of record (README, Backup and restore): each format loses something of an
    annotation, and loaddata writes the loss back. Pinned so that a Django that stops losing it is noticed."""

    @classmethod
    def setUpTestData(cls):
        load_corpus()
        article = Provision.objects.get(slug="art-4")
        start = article.text.index("state of war")  # its prefix ends with a space: "…finds itself in a "
        cls.note = writes.create(author=make_user("ana"), target=article, start=start, end=start + 12,
                                 exact="state of war", body="A note.")
        Annotation.objects.filter(pk=cls.note.pk).update(created_at=cls.note.created_at.replace(microsecond=123456))

    def reloaded(self, fixture_format):
        with tempfile.TemporaryDirectory() as directory:
            fixture = Path(directory) / f"annotations.{fixture_format}"
            call_command("dumpdata", "annotations.annotation", "--format", fixture_format, "--output", str(fixture),
                         verbosity=0)
            call_command("loaddata", str(fixture), verbosity=0)
        return Annotation.objects.get(pk=self.note.pk)

    def test_json_rounds_times_to_the_millisecond(self):
        """A JSON fixture keeps 123 of the 123456 microseconds of created_at."""
        self.assertEqual(self.reloaded("json").created_at.microsecond, 123000)  # 123456 before

    def test_xml_strips_the_spaces_around_text(self):
        """An XML fixture loses the space that ends the quote's prefix (loaddata strips every text field)."""
        prefix = self.note.prefix
        self.assertEqual((prefix[-1], self.reloaded("xml").prefix), (" ", prefix[:-1]))
