"""Each note's stored tag keys (Annotation.tag_keys) equal its tags after every door that changes them."""

import importlib
import io
import json
import tempfile
from pathlib import Path

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core import serializers
from django.core.management import call_command
from django.test import TestCase, TransactionTestCase
from django.urls import reverse

from annotations import tokens, writes
from annotations.models import Annotation, ApiToken, Tag
from annotations.roles import grant_role_permissions
from treaty_app.importing import load_corpus
from treaty_app.models import Provision
from treaty_app.site import site_url

from .factories import make_annotation, make_provision, make_treaty, make_user

TEXT = "The Parties shall immediately provide military and other assistance with all means in their possession."
HTMX = {"HX-Request": "true"}


class StoredTagKeysTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t")
        cls.provision = make_provision(cls.treaty, number=4, text=TEXT)
        cls.ana = make_user("ana")
        cls.cora = make_user("cora", role="Curators", is_staff=True)
        cls.war, cls.aid, cls.law = (Tag.objects.create(name=name, slug=name) for name in ("war", "aid", "law"))

    def assert_stored(self):
        """Every note's stored keys are its tags' keys, ascending; and at least one note has tags."""
        through = Annotation.tags.through.objects.values_list("annotation_id", "tag_id")
        expected = {pk: [] for pk in Annotation.objects.values_list("pk", flat=True)}
        for annotation_id, tag_id in through:
            expected[annotation_id].append(tag_id)
        stored = dict(Annotation.objects.values_list("pk", "tag_keys"))
        self.assertEqual(stored, {pk: ",".join(map(str, sorted(tag_ids))) for pk, tag_ids in expected.items()})
        self.assertTrue(any(stored.values()))

    def words(self, phrase):
        start = TEXT.index(phrase)
        return {"exact": phrase, "start": start, "end": start + len(phrase)}


class ThroughTheWorkspaceTests(StoredTagKeysTestCase):
    def setUp(self):
        self.client.force_login(self.ana)

    def test_create_and_edit_with_htmx_and_without(self):
        create = reverse("annotations:create", args=["t", "art-4"])
        for headers in (HTMX, {}):
            with self.subTest(htmx=bool(headers)):
                self.client.post(create, {**self.words("military"), "body": "A note.", "visibility": "team",
                                          "tags": [self.law.pk, self.war.pk], "new_tags": "brand new"},
                                 headers=headers)
                self.assert_stored()
                note = Annotation.objects.latest("pk")
                self.assertEqual(len(note.tag_keys.split(",")), 3)
                self.client.post(reverse("annotations:edit", args=[note.pk]),
                                 {"body": "Edited.", "visibility": "team", "version": note.version,
                                  "tags": [self.aid.pk]}, headers=headers)
                self.assert_stored()
                self.assertEqual(Annotation.objects.get(pk=note.pk).tag_keys, str(self.aid.pk))


class ThroughCurationTests(StoredTagKeysTestCase):
    def setUp(self):
        self.note = writes.create(author=self.ana, target=self.provision, body="A note.", tags=[self.war, self.aid],
                                  **self.words("military"))
        self.other = make_annotation(self.provision, self.ana, 0, 3, tags=[self.law])

    def test_publishing_a_revision_retagging_and_reverting(self):
        writes.submit(self.note.pk, by=self.ana)
        writes.publish(Annotation.objects.filter(pk=self.note.pk), curator=self.cora)
        writes.edit(self.note.pk, by=self.ana, version=None, body="Revised.", tags=[self.law])  # a pending revision
        self.assert_stored()
        writes.publish(Annotation.objects.filter(pk=self.note.pk), curator=self.cora)  # the revision
        self.assert_stored()
        self.assertEqual(Annotation.objects.get(pk=self.note.pk).tag_keys, str(self.law.pk))
        writes.retag(self.other.pk, curator=self.cora, tags=[self.war, self.aid])
        self.assert_stored()
        first = Annotation.objects.get(pk=self.other.pk).history.earliest("history_date")
        writes.revert(self.other.pk, by=self.cora, history_id=first.pk)
        self.assert_stored()

    def test_tags_merged_and_deleted_in_the_admin(self):
        self.client.force_login(self.cora)
        changelist = reverse("admin:annotations_tag_changelist")
        self.client.post(changelist, {"action": "merge", "_selected_action": [self.war.pk], "into": self.law.pk})
        self.assertFalse(Tag.objects.filter(pk=self.war.pk).exists())
        self.assert_stored()
        response = self.client.post(reverse("admin:annotations_tag_delete", args=[self.aid.pk]), {"post": "yes"})
        self.assertEqual(response.status_code, 302)
        self.assertFalse(Tag.objects.filter(pk=self.aid.pk).exists())
        self.assert_stored()
        self.client.post(changelist, {"action": "delete_selected", "_selected_action": [self.law.pk], "post": "yes"})
        self.assertFalse(Tag.objects.filter(pk=self.law.pk).exists())
        self.assertEqual(set(Annotation.objects.values_list("tag_keys", flat=True)), {""})

    def test_the_tags_notes_changed_from_the_tag(self):
        self.law.annotations.add(self.note)
        self.assert_stored()
        self.war.annotations.remove(self.note)
        self.assert_stored()
        self.aid.annotations.clear()
        self.assert_stored()
        self.assertEqual(Annotation.objects.get(pk=self.note.pk).tag_keys, str(self.law.pk))


class ThroughTheAdminFormsTheApiAndFixturesTests(StoredTagKeysTestCase):
    def setUp(self):
        self.note = writes.create(author=self.ana, target=self.provision, body="A note.", tags=[self.war],
                                  **self.words("military"))

    def test_the_admin_change_form_and_its_history_revert(self):
        self.client.force_login(self.cora)
        change = reverse("admin:annotations_annotation_change", args=[self.note.pk])
        self.client.post(change, {"tags": [self.aid.pk, self.law.pk], "_save": "Save"})
        self.assertEqual(Annotation.objects.get(pk=self.note.pk).tag_keys, writes.tag_keys_of([self.aid.pk, self.law.pk]))
        self.assert_stored()
        first = Annotation.objects.get(pk=self.note.pk).history.earliest("history_date")
        revert = reverse("admin:annotations_annotation_simple_history", args=[self.note.pk, first.pk])
        self.client.post(revert, {"visibility": "team", "tags": [], "_save": "Save"})
        self.assertEqual(Annotation.objects.get(pk=self.note.pk).tag_keys, str(self.war.pk))
        self.assert_stored()

    def test_a_revision_published_by_the_admin_action(self):
        writes.submit(self.note.pk, by=self.ana)
        writes.publish(Annotation.objects.filter(pk=self.note.pk), curator=self.cora)
        writes.edit(self.note.pk, by=self.ana, version=None, body="Revised.", tags=[self.aid])  # a pending revision
        self.client.force_login(self.cora)
        self.client.post(reverse("admin:annotations_annotation_changelist"),
                         {"action": "publish", "_selected_action": [self.note.pk]})
        self.assertEqual(Annotation.objects.get(pk=self.note.pk).tag_keys, str(self.aid.pk))
        self.assert_stored()

    def test_a_note_made_through_the_annotation_protocol(self):
        secret = tokens.issue(self.ana, name="script", scope=ApiToken.Scope.WRITE)[1]
        document = {
            "@context": "http://www.w3.org/ns/anno.jsonld", "type": "Annotation",
            "body": [{"type": "TextualBody", "value": "Why.", "format": "text/markdown", "purpose": "commenting"},
                     {"type": "TextualBody", "value": "law", "purpose": "tagging"}],
            "target": {"source": f"{site_url()}/treaties/t/art-4/",
                       "selector": [{"type": "TextQuoteSelector", "exact": "assistance"}]},
        }
        response = self.client.post("/annotations/", json.dumps(document), HTTP_AUTHORIZATION=f"Bearer {secret}",
                                    content_type='application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"')
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(Annotation.objects.latest("pk").tag_keys, str(self.law.pk))
        self.assert_stored()

    def test_a_fixture_loaded_with_stale_keys(self):
        fixture = json.loads(serializers.serialize("json", [self.note]))
        fixture[0]["fields"]["tag_keys"] = "999"
        Annotation.objects.filter(pk=self.note.pk).delete()
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "note.json"
            path.write_text(json.dumps(fixture))
            call_command("loaddata", str(path), verbosity=0)
        self.assertEqual(Annotation.objects.get(pk=self.note.pk).tag_keys, str(self.war.pk))
        self.assert_stored()


class ThroughImportTests(TransactionTestCase):
    serialized_rollback = True  # the migrations' rows (role groups, content versions) for the tests after

    def test_restored_from_the_curators_export(self):
        load_corpus()
        article = Provision.objects.get(slug="art-4")
        ana = make_user("ana")
        tags = [Tag.objects.create(name=name, slug=name) for name in ("war", "aid")]
        phrase = article.text[:12]
        writes.create(author=ana, target=article, start=0, end=12, exact=phrase, body="A note.", tags=tags)
        with tempfile.TemporaryDirectory() as directory:
            backup = Path(directory) / "backup.jsonld"
            call_command("export_annotations", str(backup), "--all", stdout=io.StringIO())
            call_command("flush", "--no-input", verbosity=0)
            grant_role_permissions(Group, Permission)
            load_corpus()
            call_command("import_annotations", str(backup), stdout=io.StringIO())
        self.assertEqual(Annotation.objects.get().tag_keys,
                         writes.tag_keys_of(Tag.objects.filter(slug__in=["war", "aid"]).values_list("pk", flat=True)))


class ThroughTheMigrationTests(TestCase):
    def test_the_migration_fills_every_note(self):
        provision = make_provision(make_treaty(slug="t"), number=4, text=TEXT)
        ana = make_user("ana")
        tags = [Tag.objects.create(name=name, slug=name) for name in ("b", "a", "c")]
        notes = [make_annotation(provision, ana, 0, 3, tags=tags[:count]) for count in range(4)]
        Annotation.objects.update(tag_keys="")
        importlib.import_module("annotations.migrations.0017_stored_tag_keys").fill(apps, None)
        self.assertEqual([Annotation.objects.get(pk=note.pk).tag_keys for note in notes],
                         ["", *(writes.tag_keys_of(tag.pk for tag in tags[:count]) for count in (1, 2, 3))])


class ReadersOfStaleKeysTests(StoredTagKeysTestCase):
    """A row read just before one of its tags is deleted names a key the vocabulary, read after, lacks:
    every page that names tags by stored keys leaves that tag out and answers."""

    def test_a_key_with_no_tag_is_left_out_by_every_reader(self):
        note = make_annotation(self.provision, self.ana, 4, 11, visibility="public", tags=[self.war])
        Annotation.objects.filter(pk=note.pk).update(tag_keys=f"{self.war.pk},999999")
        self.client.force_login(self.ana)
        pages = {
            "public page": reverse("reader:provision", args=["t", "art-4"]),
            "JSON-LD": reverse("reader:provision-annotations", args=["t", "art-4"]),
            "workspace": reverse("annotations:workspace", args=["t", "art-4"]),
        }
        for name, url in pages.items():
            with self.subTest(name):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, "war")
        tags = json.loads(self.client.get(pages["JSON-LD"]).content)["first"]["items"][0]["body"]
        self.assertEqual([body["value"] for body in tags if body.get("purpose") == "tagging"], ["war"])
