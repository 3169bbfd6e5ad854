import csv
import io
import json
import tempfile
import tracemalloc
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test import TestCase, TransactionTestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from annotations.anchoring import quote_selector
from annotations.exporting import ANNO_CONTEXT, MEDIA_TYPE
from annotations.models import Annotation, Tag
from annotations.w3c_schemas import is_uri, musts
from treaty_app.importing import load_corpus
from treaty_app import versioning
from treaty_app.models import Excerpt, ExcerptLink, Provision, Source, Treaty
from treaty_app.site import absolute_url

from .factories import annotation_row, make_annotation, make_annotations, make_provision, make_user
from .shared import W3C_TESTS, needs_shared

BASE = "https://glossa.example"


# --------------------------------------------------------------------------- the W3C validator


def failed(document, kind=None):
    """Names of the W3C MUST assertions `document` fails (annotations/w3c_schemas, the model's own schemas)."""
    if kind == "annotation":
        return [failure.name for failure in musts().annotation_failures(document)]
    return [failure.name for failure in musts().document_failures(document)]


def standalone(item):
    """An item of a page as it would be published on its own: with the context."""
    return {"@context": ANNO_CONTEXT, **item}


# --------------------------------------------------------------------------- helpers


def export(*args, base_url=BASE):
    """Run export_annotations to a temporary file; return (bytes, parsed document or None for CSV)."""
    with tempfile.TemporaryDirectory() as directory:
        suffix = ".csv" if "csv" in args else ".jsonld"
        path = Path(directory) / f"export{suffix}"
        call_command("export_annotations", str(path), "--base-url", base_url, *args, stdout=io.StringIO())
        data = path.read_bytes()
    return data, (None if suffix == ".csv" else json.loads(data))


def run_import(data, *args):
    """Run import_annotations on `data` (bytes or a document); return its output."""
    if not isinstance(data, bytes):
        data = json.dumps(data).encode()
    with tempfile.NamedTemporaryFile(suffix=".jsonld") as file:
        file.write(data)
        file.flush()
        out = io.StringIO()
        call_command("import_annotations", file.name, *args, stdout=out)
    return out.getvalue()


def items(document):
    """The annotations a page, or a collection embedding its page, holds ([] for a collection that links its pages)."""
    if document["type"] == "AnnotationCollection":
        return document["first"]["items"] if isinstance(document.get("first"), dict) else []
    return document["items"]


def pk_of(item):
    return int(item["id"].rsplit("#annotation-", 1)[1])


class AnnotationsInEveryState:
    """The corpus, and annotations in every state: each visibility, hidden, deleted, replies, tags,
    an excerpt target, a drifted one, a sent-back one, Unicode quotes and a Unicode username."""

    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.treaty = Treaty.objects.get()
        cls.article = cls.treaty.provisions.get(slug="art-4")
        cls.ana, cls.bob = make_user("ana"), make_user("bob")
        cls.cora = make_user("cora", role="Curators", is_staff=True)
        cls.zoe = make_user("zoë")
        cls.war = Tag.objects.create(name="state of war", slug="state-of-war")
        cls.etat = Tag.objects.create(name="état de guerre", slug="etat-de-guerre")
        start = cls.article.text.index("and thus finds itself in a state of war")
        span = (start, start + 39)

        def note(author, visibility, body, **fields):
            return make_annotation(cls.article, author, *span, visibility=visibility, body=body, **fields)

        cls.public = note(cls.ana, "public", "**Published** — with “quotes”.", tags=[cls.war, cls.etat])
        cls.team = note(cls.bob, "team", "Team note.", tags=[cls.war])
        cls.private_ana = note(cls.ana, "private", "Ana's private note.")
        cls.private_bob = note(cls.bob, "private", "Bob's private note.")
        cls.hidden = note(cls.ana, "public", "Hidden by a curator.")
        Annotation.objects.filter(pk=cls.hidden.pk).update(hidden_at=timezone.now(), hidden_by=cls.cora)
        cls.deleted = note(cls.ana, "public", "Deleted by its author.")
        Annotation.objects.filter(pk=cls.deleted.pk).update(deleted_at=timezone.now())
        cls.returned = note(cls.bob, "team", "Sent back.")
        Annotation.objects.filter(pk=cls.returned.pk).update(
            review="returned", review_note="Cite the commentary.", reviewed_by=cls.cora,
            reviewed_at=timezone.now(), submitted_at=timezone.now(),
        )
        cls.reply = annotation_row(parent=cls.public, author=cls.zoe, body="Zoë’s reply.", visibility="public")
        cls.team_reply = annotation_row(parent=cls.team, author=cls.ana, body="Agreed.", visibility="team")
        cls.reply_to_team = annotation_row(
            parent=cls.team, author=cls.ana, body="Public reply under a team note.", visibility="public"
        )
        cls.drifted = make_annotation(cls.article, cls.ana, 0, 5, visibility="public", body="Lost its place.")
        Annotation.objects.filter(pk=cls.drifted.pk).update(
            placement="drifted", start=None, end=None, anchored_text="The wording as it stood."
        )
        cls.excerpt = ExcerptLink.objects.approved().filter(provision=cls.article).first().excerpt
        quote = quote_selector(cls.excerpt.text, 0, 12)
        cls.on_excerpt = annotation_row(
            excerpt=cls.excerpt, author=cls.ana, body="On the commentary.", visibility="public", start=0, end=12,
            exact=quote.exact, prefix=quote.prefix, suffix=quote.suffix,
        )
        cls.on_excerpt.tags.set([cls.etat])
        cls.unicode_provision = make_provision(
            cls.treaty, number=90, text="Les Parties s’engagent : 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and e\u0301 café ☕ 条约 — fin."
        )
        text = cls.unicode_provision.text
        cls.unicode = make_annotation(
            cls.unicode_provision, cls.zoe, text.index("𝔘"), text.index(" 条约"), visibility="public",
            body="Astral letters: code points, not UTF-16 units.", tags=[cls.etat],
        )
        cls.public_set = {cls.public, cls.reply, cls.drifted, cls.on_excerpt, cls.unicode}


# --------------------------------------------------------------------------- W3C conformance


@needs_shared(W3C_TESTS)
class W3CConformanceTests(AnnotationsInEveryState, TestCase):
    """Everything Glossa exports passes the W3C Web Annotation model's own MUST assertions."""

    def exported_documents(self):
        _, backup = export("--all")
        documents = {"export_annotations --all": backup}
        for name, user in {"visitor": None, "analyst": self.ana, "curator": self.cora}.items():
            if user:
                self.client.force_login(user)
            else:
                self.client.logout()
            for url in [
                reverse("reader:annotations-export"),
                reverse("reader:annotations-export") + "?page=1",
                reverse("reader:annotations-export") + "?page=2&size=3",
                reverse("reader:provision-annotations", args=[self.treaty.slug, "art-4"]),
                reverse("reader:provision-annotations", args=[self.treaty.slug, "art-90"]),
                reverse("reader:provision-annotations", args=[self.treaty.slug, "art-1"]),  # none: total 0
            ]:
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200, url)
                documents[f"{name} {url}"] = response.json()
        return documents

    def test_every_exported_annotation_passes_the_annotation_musts(self):
        """Each annotation of the backup and of every HTTP document passes all annotationMusts assertions."""
        checked = 0
        for name, document in self.exported_documents().items():
            for item in items(document):
                with self.subTest(document=name, id=item["id"]):
                    self.assertEqual(failed(standalone(item), "annotation"), [])
                    checked += 1
        self.assertGreater(checked, 50)  # the 13 of the backup, and each HTTP document's

    def test_collections_and_pages_pass_their_musts(self):
        """Collections pass collectionMusts, pages (and collections embedding one) pass pageMusts."""
        for name, document in self.exported_documents().items():
            with self.subTest(document=name):
                self.assertEqual(failed(document), [])

    def test_the_validator_accepts_the_correct_samples_and_rejects_the_incorrect(self):
        """The W3C correct samples pass (bar the three pre-CR3 ones) and every incorrect one fails a MUST."""
        known = {
            # Composite/List/Independents targets, dropped from the model at CR3 (schemas/NOTICE.md).
            "anno11.json": ["annotations/3.2-targetObjectsRecognized.json"],
            "anno12.json": ["annotations/3.2-targetObjectsRecognized.json"],
            "anno13.json": ["annotations/3.2-targetObjectsRecognized.json"],
            "collection1.json": ["annotations/3.2-targetObjectsRecognized.json"],  # it embeds those three
        }
        correct = sorted((W3C_TESTS / "samples" / "correct").glob("*.json"))
        incorrect = sorted((W3C_TESTS / "samples" / "incorrect").glob("*.json"))
        self.assertGreater(len(correct), 40)
        self.assertGreater(len(incorrect), 35)
        for path in correct:
            document = json.loads(path.read_text())
            expected = known.get(path.name, [])
            with self.subTest(sample=f"correct/{path.name}"):
                self.assertEqual(failed(document), expected)
        for path in incorrect:
            with self.subTest(sample=f"incorrect/{path.name}"):
                try:
                    document = json.loads(path.read_text())
                except ValueError:
                    continue  # some incorrect samples are deliberately not JSON
                self.assertNotEqual(failed(document), [])


# --------------------------------------------------------------------------- shapes


class ShapeTests(AnnotationsInEveryState, TestCase):
    """The annotation documents have the shapes the module docstring promises."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        _, cls.backup = export("--all")
        cls.by_pk = {pk_of(item): item for item in items(cls.backup)}

    def test_backup_document_shape(self):
        """One collection with the context once, embedding a page of every annotation, total last."""
        document = self.backup
        self.assertEqual(list(document)[:4], ["@context", "id", "type", "label"])
        self.assertEqual(list(document)[-1], "total")
        self.assertEqual(document["@context"], ANNO_CONTEXT)
        self.assertEqual(document["id"], f"{BASE}/annotations.jsonld")
        self.assertEqual(document["first"]["id"], f"{BASE}/annotations.jsonld#items")
        self.assertEqual(document["first"]["startIndex"], 0)
        self.assertEqual(document["total"], Annotation.objects.count())
        self.assertEqual(list(self.by_pk), sorted(Annotation.objects.values_list("pk", flat=True)))
        self.assertTrue(all("@context" not in item for item in items(document)))

    def test_required_fields_and_absolute_iris(self):
        """Every annotation has id, type, motivation, times with a zone, creator and body; ids are absolute."""
        for item in items(self.backup):
            with self.subTest(id=item["id"]):
                self.assertEqual(item["type"], "Annotation")
                self.assertIn(item["motivation"], {"commenting", "replying"})
                for key in ("created", "modified"):
                    self.assertIsNotNone(datetime.fromisoformat(item[key]).tzinfo)
                self.assertEqual(item["creator"]["type"], "Person")
                for iri in [item["id"], item["creator"]["id"], *(b["glossa:tag"] for b in item["body"][1:])]:
                    self.assertTrue(iri.startswith(BASE + "/"), iri)
                    self.assertTrue(is_uri(iri), iri)
                note = item["body"][0]
                self.assertEqual(
                    {k: note[k] for k in ("type", "format", "language", "purpose")},
                    {"type": "TextualBody", "format": "text/markdown", "language": "en", "purpose": "commenting"},
                )

    def test_provision_annotation(self):
        """A provision annotation: id on the provision page, quote and position selectors, one tagging body a tag."""
        item = self.by_pk[self.public.pk]
        page = f"{BASE}{self.article.get_absolute_url()}"
        self.assertEqual(item["id"], f"{page}#annotation-{self.public.pk}")
        self.assertEqual(item["motivation"], "commenting")
        self.assertEqual(item["creator"], {"id": f"{BASE}/users/ana/", "type": "Person", "nickname": "ana"})
        self.assertEqual(item["body"][0]["value"], self.public.body)
        self.assertEqual(item["body"][1:], [
            {"type": "TextualBody", "purpose": "tagging", "value": "état de guerre",
             "glossa:tag": f"{BASE}/tags/etat-de-guerre/"},
            {"type": "TextualBody", "purpose": "tagging", "value": "state of war",
             "glossa:tag": f"{BASE}/tags/state-of-war/"},
        ])
        # The source is the page's wording element, whose textContent is the text the selectors index.
        self.assertEqual(item["target"], {"source": f"{page}#wording", "selector": [
            {"type": "TextQuoteSelector", "exact": self.public.exact, "prefix": self.public.prefix,
             "suffix": self.public.suffix},
            {"type": "TextPositionSelector", "start": self.public.start, "end": self.public.end},
        ]})
        self.assertEqual(
            {k: v for k, v in item.items() if k.startswith("glossa:")},
            {"glossa:visibility": "public", "glossa:placement": "anchored", "glossa:textVersion": 1},
        )
        self.assertEqual(self.client.get(urlsplit(page).path).status_code, 200)
        self.assertEqual(self.client.get(urlsplit(item["body"][1]["glossa:tag"]).path).status_code, 200)

    def test_reply_targets_its_parent(self):
        """A reply is "replying", its target the parent's id; a Unicode username is percent-encoded."""
        item = self.by_pk[self.reply.pk]
        self.assertEqual(item["motivation"], "replying")
        self.assertEqual(item["target"], self.by_pk[self.public.pk]["id"])
        self.assertEqual(item["id"], f"{BASE}{self.article.get_absolute_url()}#annotation-{self.reply.pk}")
        self.assertEqual(item["creator"]["id"], f"{BASE}/users/zo%C3%AB/")
        self.assertEqual(item["creator"]["nickname"], "zoë")

    def test_excerpt_annotation_targets_the_excerpt_permalink(self):
        """An annotation on an excerpt targets the excerpt's permalink, offsets within the excerpt."""
        item = self.by_pk[self.on_excerpt.pk]
        source_page = f"{BASE}{self.excerpt.source.get_absolute_url()}"
        self.assertEqual(item["target"]["source"], f"{source_page}#excerpt-{self.excerpt.pk}")
        self.assertEqual(item["id"], f"{source_page}#annotation-{self.on_excerpt.pk}")
        self.assertEqual(item["target"]["selector"][1], {"type": "TextPositionSelector", "start": 0, "end": 12})
        self.assertNotIn("glossa:textVersion", item)

    def test_drifted_annotation_has_only_its_quote(self):
        """A drifted annotation keeps its TextQuoteSelector and the wording it drifted from, no position."""
        item = self.by_pk[self.drifted.pk]
        self.assertEqual([s["type"] for s in item["target"]["selector"]], ["TextQuoteSelector"])
        self.assertEqual(item["glossa:placement"], "drifted")
        self.assertEqual(item["glossa:anchoredText"], "The wording as it stood.")

    def test_unicode_positions_are_code_points(self):
        """Positions count code points: the provision's text[start:end] is the exact quote, astral letters included."""
        item = self.by_pk[self.unicode.pk]
        quote, position = item["target"]["selector"]
        self.assertEqual(self.unicode_provision.text[position["start"] : position["end"]], quote["exact"])
        self.assertTrue(quote["exact"].startswith("𝔘𝔫𝔦𝔠𝔬𝔡𝔢"))

    def test_curators_state_is_in_the_backup_only(self):
        """Review, hiding and deletion travel in the backup, never in HTTP documents."""
        self.assertEqual(self.by_pk[self.returned.pk]["glossa:review"], "returned")
        self.assertEqual(self.by_pk[self.returned.pk]["glossa:reviewNote"], "Cite the commentary.")
        self.assertEqual(self.by_pk[self.returned.pk]["glossa:reviewedBy"], "cora")
        self.assertEqual(self.by_pk[self.hidden.pk]["glossa:hiddenBy"], "cora")
        self.assertIn("glossa:deleted", self.by_pk[self.deleted.pk])
        self.client.force_login(self.cora)
        page = self.client.get(reverse("reader:annotations-export") + "?page=1").json()
        self.assertIn(self.returned.pk, [pk_of(item) for item in page["items"]])
        self.assertFalse({key for item in page["items"] for key in item} & {
            "glossa:review", "glossa:reviewNote", "glossa:reviewedBy", "glossa:hidden", "glossa:deleted",
        })

    def test_default_scope_is_everything_not_deleted(self):
        """The default export holds everything but the deleted; --published holds what visitors see."""
        _, live = export()
        self.assertEqual(
            {pk_of(item) for item in items(live)},
            set(Annotation.objects.filter(deleted_at__isnull=True).values_list("pk", flat=True)),
        )
        _, published = export("--published")
        self.assertEqual({pk_of(item) for item in items(published)}, {a.pk for a in self.public_set})

    def test_standard_output_and_bad_base_url(self):
        """"-" writes the document to standard output; a base URL that is not http(s) is refused."""
        out = io.StringIO()
        call_command("export_annotations", "-", "--base-url", BASE, stdout=out, stderr=io.StringIO())
        self.assertEqual(out.getvalue().encode(), export()[0])
        with self.assertRaisesMessage(CommandError, "--base-url must be an http(s) address"):
            call_command("export_annotations", "-", "--base-url", "glossa.example", stdout=io.StringIO())


# --------------------------------------------------------------------------- round trip


class RoundTripTests(AnnotationsInEveryState, TestCase):
    """Export → wipe → import → export gives the same document, byte for byte."""

    def wipe(self):
        Annotation.objects.all().delete()
        Tag.objects.all().delete()

    def test_export_wipe_import_export_is_identical(self):
        """Every field the document carries comes back, with the same ids; the bytes are the same."""
        before_bytes, before = export("--all")
        self.wipe()
        output = run_import(before_bytes)
        self.assertIn(f"Imported {before['total']} annotations", output)
        after_bytes, after = export("--all")
        self.assertEqual(after, before)
        self.assertEqual(after_bytes, before_bytes)
        restored = Annotation.objects.get(pk=self.public.pk)
        self.assertEqual(restored.body_html, self.public.body_html)
        self.assertEqual(restored.updated_at, self.public.updated_at)
        self.assertEqual(Annotation.objects.get(pk=self.hidden.pk).hidden_by, self.cora)
        self.assertTrue(restored.history.filter(history_type="+").exists())

    def test_importing_twice_creates_nothing_new(self):
        """A second import of the same file leaves the database as the first left it."""
        data, document = export("--all")
        self.wipe()
        run_import(data)
        counts = (Annotation.objects.count(), Tag.objects.count(), User.objects.count())
        output = run_import(data)
        self.assertIn("Imported 0 annotations from", output)
        self.assertIn(f"{document['total']} were already here", output)
        self.assertEqual((Annotation.objects.count(), Tag.objects.count(), User.objects.count()), counts)
        self.assertEqual(export("--all")[0], data)

    def test_new_annotations_after_an_import_get_fresh_numbers(self):
        """After rows were inserted with their own pks, new annotations do not collide (PostgreSQL sequences)."""
        data, _ = export("--all")
        self.wipe()
        run_import(data)
        later = make_annotation(self.article, self.ana, 0, 5)
        self.assertGreater(later.pk, max(Annotation.objects.exclude(pk=later.pk).values_list("pk", flat=True)))

    def test_missing_users_are_created_inactive_only_when_asked(self):
        """A missing author stops the import unless --create-users, which makes an inactive account.
        (The published export lists no people; a backup, which does, restores them: test_backup.)"""
        data, _ = export("--published")
        self.wipe()
        self.zoe.delete()
        with self.assertRaisesMessage(CommandError, "no user zoë here"):
            run_import(data)
        self.assertEqual(Annotation.objects.count(), 0)
        output = run_import(data, "--create-users")
        self.assertIn("Created inactive users: zoë", output)
        zoe = User.objects.get(username="zoë")
        self.assertFalse(zoe.is_active)
        self.assertFalse(zoe.has_usable_password())
        self.assertFalse(zoe.groups.exists())
        self.assertEqual(export("--published")[0], data)

    def test_a_taken_number_gets_a_fresh_one_and_replies_follow(self):
        """When an item's pk belongs to another annotation, it is imported under a new pk with its replies."""
        _, document = export("--published")
        self.wipe()
        squatter = annotation_row(
            pk=self.public.pk, provision=self.article, author=self.bob, body="Not the same note.",
            start=0, end=3, exact=self.article.text[:3], visibility="team",
        )
        output = run_import(document)
        self.assertIn("its number was taken", output)
        moved = Annotation.objects.exclude(pk=squatter.pk).get(body=self.public.body)
        self.assertNotEqual(moved.pk, self.public.pk)
        self.assertEqual(Annotation.objects.get(pk=self.reply.pk).parent, moved)
        self.assertEqual(Annotation.objects.get(pk=squatter.pk).body, "Not the same note.")
        self.assertIn("Imported 0 annotations", run_import(document))  # still idempotent

    def test_changed_wording_is_reanchored_and_reported(self):
        """A position that no longer matches the wording is placed again by its quote, and reported."""
        _, document = export("--published")
        self.wipe()
        Provision.objects.filter(pk=self.article.pk).update(
            text="A new opening sentence. " + self.article.text, text_version=F("text_version") + 1
        )
        output = run_import(document)
        self.assertIn(f"#annotation-{self.public.pk}: no longer matched the wording at its place: now anchored", output)
        moved = Annotation.objects.get(pk=self.public.pk)
        self.assertEqual((moved.start, moved.text_version), (self.public.start + 24, 2))
        self.assertEqual(Annotation.objects.get(pk=self.drifted.pk).placement, "drifted")  # stays as it was

    def test_provision_source_with_or_without_the_wording_fragment(self):
        """A provision target's source imports as that provision whether it names the #wording element
        (Glossa's exports) or only the page (exports made before the element had an id)."""
        _, document = export("--published")
        target = next(item for item in items(document) if pk_of(item) == self.public.pk)["target"]
        page = f"{BASE}{self.article.get_absolute_url()}"
        self.assertEqual(target["source"], f"{page}#wording")
        for n, source in enumerate([f"{page}#wording", page]):
            with self.subTest(source=source):
                run_import({
                    "@context": ANNO_CONTEXT, "id": f"urn:uuid:5b0c2f4e-0000-4000-8000-00000000000{n}",
                    "type": "Annotation", "created": f"2024-06-20T11:00:0{n}Z",  # else: the same note
                    "creator": {"type": "Person", "nickname": "bob"}, "bodyValue": f"Through {source}", "target": {**target, "source": source},
                })
                note = Annotation.objects.get(body=f"Through {source}")
                self.assertEqual(
                    (note.provision, note.excerpt, note.start, note.end),
                    (self.article, None, self.public.start, self.public.end),
                )

    def test_foreign_annotation_is_accepted(self):
        """A plain W3C annotation (another client's, one selector, no glossa: terms) imports as a team note."""
        phrase = "with all means in its possession in accordance with Article 51"
        self.assertEqual(self.article.text.count(phrase), 1)
        start = self.article.text.index(phrase)
        document = {
            "@context": ANNO_CONTEXT, "id": "urn:uuid:7f1a7c58-8d43-4d5e-9f16-3c1a2b1c9d01", "type": "Annotation",
            "created": "2024-06-20T11:00:00+02:00", "creator": {"type": "Person", "nickname": "bob"},
            "bodyValue": "From another client.",
            "target": {"source": f"http://localhost:9000{self.article.get_absolute_url()}",
                       "selector": {"type": "TextQuoteSelector", "exact": phrase}},
        }
        run_import(document)
        note = Annotation.objects.get(body="From another client.")
        self.assertEqual((note.start, note.end, note.visibility), (start, start + len(phrase), "team"))
        self.assertEqual(note.created_at, datetime.fromisoformat("2024-06-20T09:00:00+00:00"))
        self.assertIn("Imported 0", run_import(document))


# --------------------------------------------------------------------------- visibility


class VisibilityTests(AnnotationsInEveryState, TestCase):
    """HTTP documents hold only what their reader may see, down to the total."""

    def collected(self, url):
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], MEDIA_TYPE)
        document = response.json()
        return document, {pk_of(item) for item in items(document)}

    def everything(self):
        collection, _ = self.collected(reverse("reader:annotations-export"))
        page, pks = self.collected(reverse("reader:annotations-export") + "?page=1")
        self.assertEqual(collection["total"], page["partOf"]["total"])
        self.assertEqual(collection["total"], len(pks))
        return pks

    def test_visitors_see_only_published_annotations(self):
        """A visitor's collection, pages and provision documents hold the published annotations, nothing else."""
        published = {a.pk for a in self.public_set}
        self.assertEqual(self.everything(), published)
        document, pks = self.collected(reverse("reader:provision-annotations", args=[self.treaty.slug, "art-4"]))
        self.assertEqual(pks, {self.public.pk, self.reply.pk, self.drifted.pk})
        self.assertEqual(document["total"], 3)
        body = self.client.get(reverse("reader:annotations-export") + "?page=1").content.decode()
        for secret in ("Team note", "private note", "Hidden by", "Deleted by", "Sent back", "under a team note"):
            self.assertNotIn(secret, body)

    def test_an_analyst_sees_team_notes_and_their_own_private_ones(self):
        """An analyst sees public and team annotations and their own private ones, never others' or hidden ones."""
        self.client.force_login(self.ana)
        expected = self.public_set | {self.team, self.private_ana, self.returned, self.team_reply, self.reply_to_team}
        self.assertEqual(self.everything(), {a.pk for a in expected})
        _, pks = self.collected(reverse("reader:provision-annotations", args=[self.treaty.slug, "art-4"]))
        self.assertEqual(pks, {a.pk for a in expected if a.provision_id == self.article.pk or a.parent_id})

    def test_a_reply_follows_its_parent(self):
        """A public reply under a team note stays out of what visitors see, and in for the team."""
        self.assertNotIn(self.reply_to_team.pk, self.everything())
        self.client.force_login(self.bob)
        self.assertIn(self.reply_to_team.pk, self.everything())

    def test_replies_under_a_published_note_follow_their_own_visibility(self):
        """The provision document's replies (replies_readable_by): under a published note, a team reply is the
        team's, a private one its author's, a deleted or hidden one nobody's."""
        from django.contrib.auth.models import AnonymousUser

        def reply(author, visibility, **fields):
            return annotation_row(parent=self.public, author=author, body="Periscope.", visibility=visibility,
                                  **fields).pk

        team, private_bob = reply(self.bob, "team"), reply(self.bob, "private")
        gone = {reply(self.bob, "public", deleted_at=timezone.now()), reply(self.bob, "public", hidden_at=timezone.now())}
        url = reverse("reader:provision-annotations", args=[self.treaty.slug, "art-4"])
        for reader, shown, not_shown in [(AnonymousUser(), set(), {team, private_bob}), (self.ana, {team}, {private_bob}),
                                         (self.bob, {team, private_bob}, set())]:
            with self.subTest(reader=str(reader)):
                self.client.logout()
                if reader.is_authenticated:
                    self.client.force_login(reader)
                _, pks = self.collected(url)
                self.assertEqual(pks & {team, private_bob}, shown)
                self.assertFalse(pks & (not_shown | gone))

    def test_unknown_provision_is_a_404(self):
        """A provision that does not exist has no annotation document."""
        response = self.client.get(reverse("reader:provision-annotations", args=[self.treaty.slug, "art-99"]))
        self.assertEqual(response.status_code, 404)

    def test_provision_document_revalidates_and_is_readable_from_any_origin(self):
        """The provision document has an ETag, answers 304 to it, and allows cross-origin reads."""
        url = reverse("reader:provision-annotations", args=[self.treaty.slug, "art-4"])
        response = self.client.get(url)
        self.assertEqual(response["Access-Control-Allow-Origin"], "*")
        again = self.client.get(url, headers={"If-None-Match": response["ETag"]})
        self.assertEqual(again.status_code, 304)


# --------------------------------------------------------------------------- paging and queries


class PagingTests(TestCase):
    """250 published annotations in pages of 100."""

    @classmethod
    def setUpTestData(cls):
        cls.provision = make_provision(text="The Parties shall consult each other without delay. " * 40, number=1)
        cls.author = make_user("ana")
        cls.tag = Tag.objects.create(name="consultation", slug="consultation")
        cls.notes = make_annotations(cls.provision, cls.author, 250, tags=[cls.tag])
        Annotation.objects.update(visibility="public")
        cls.url = reverse("reader:annotations-export")
        cls.iri = absolute_url(cls.url)

    def test_collection_points_at_the_first_and_last_pages(self):
        """The collection gives the total and the first and last page IRIs, and embeds nothing."""
        document = self.client.get(self.url).json()
        self.assertEqual(document["total"], 250)
        self.assertEqual(document["first"], f"{self.iri}?page=1")
        self.assertEqual(document["last"], f"{self.iri}?page=3")
        self.assertNotIn("items", document)

    def test_three_pages_with_their_links(self):
        """Pages 1-3 hold 100, 100 and 50 items in pk order, with startIndex, next and prev right."""
        pks = sorted(a.pk for a in self.notes)
        seen = []
        for number, (size, start) in enumerate([(100, 0), (100, 100), (50, 200)], start=1):
            page = self.client.get(f"{self.url}?page={number}").json()
            with self.subTest(page=number):
                self.assertEqual(page["id"], f"{self.iri}?page={number}")
                self.assertEqual(page["partOf"], {"id": self.iri, "type": "AnnotationCollection",
                                                  "total": 250})
                self.assertEqual((len(page["items"]), page["startIndex"]), (size, start))
                self.assertEqual(page.get("prev"), f"{self.iri}?page={number - 1}" if number > 1 else None)
                self.assertEqual(page.get("next"), f"{self.iri}?page={number + 1}" if number < 3 else None)
            seen += [pk_of(item) for item in page["items"]]
        self.assertEqual(seen, pks)

    def test_page_size_is_kept_in_the_links(self):
        """?size= changes the page size, up to 1000, and the links carry it."""
        page = self.client.get(f"{self.url}?page=2&size=50").json()
        self.assertEqual((len(page["items"]), page["startIndex"]), (50, 50))
        self.assertEqual(page["next"], f"{self.iri}?page=3&size=50")
        self.assertEqual(self.client.get(f"{self.url}?size=50").json()["last"], f"{self.iri}?page=5&size=50")
        self.assertEqual(len(self.client.get(f"{self.url}?page=1&size=1000").json()["items"]), 250)

    def test_bad_pages_are_json_errors(self):
        """A page that is not a whole number from 1 is a 400, one past the end a 404, both in JSON."""
        for query, status in [
            ("page=0", 400), ("page=-1", 400), ("page=abc", 400), ("page=1.5", 400), ("page=", 400),
            ("page=4", 404), ("page=99999999999999999999", 404), ("size=0", 400), ("size=1001", 400),
            ("page=1&size=x", 400),
        ]:
            with self.subTest(query=query):
                response = self.client.get(f"{self.url}?{query}")
                self.assertEqual(response.status_code, status)
                self.assertEqual(response["Content-Type"], "application/json")
                self.assertIn("error", response.json())

    def test_empty_collection(self):
        """With nothing visible the collection has total 0 and no pages to point at; page 1 is empty."""
        Annotation.objects.update(visibility="team")
        document = self.client.get(self.url).json()
        self.assertEqual(document["total"], 0)
        self.assertNotIn("first", document)
        self.assertEqual(self.client.get(f"{self.url}?page=1").json()["items"], [])
        self.assertEqual(self.client.get(f"{self.url}?page=2").status_code, 404)


class QueryCountTests(TestCase):
    """The number of queries does not grow with the number of annotations."""

    @classmethod
    def setUpTestData(cls):
        text = "Each Party shall notify the other of any change in its laws. " * 60
        cls.few = make_provision(text=text, number=1)
        cls.many = make_provision(cls.few.treaty, text=text, number=2)
        cls.author = make_user("ana")
        tags = [Tag.objects.create(name=f"tag {n}", slug=f"tag-{n}") for n in range(3)]
        roots = make_annotations(cls.few, cls.author, 10, tags=tags[:2]) + make_annotations(cls.many, cls.author, 500, tags=tags)
        Annotation.objects.bulk_create(
            [Annotation(parent=root, author=cls.author, body="A reply.", body_html="<p>A reply.</p>") for root in roots[::5]]
        )
        Annotation.objects.update(visibility="public")

    def count(self, url):
        # Measured as after a content change (what a visitor meets when the team has just published),
        # not served from the per-version page cache.
        versioning.changed(versioning.SHARED)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        return len(queries), len(items(response.json()))

    def test_a_page_costs_the_same_for_10_or_100_items(self):
        """A page of 10 and a page of 100 take the same number of queries, for visitors and analysts."""
        url = reverse("reader:annotations-export")
        for user in (None, self.author):
            if user:
                self.client.force_login(user)
            small, n_small = self.count(f"{url}?page=1&size=10")
            large, n_large = self.count(f"{url}?page=2&size=100")
            with self.subTest(user=user):
                self.assertEqual((n_small, n_large), (10, 100))
                self.assertEqual(small, large)
        self.client.logout()
        # The content version (ETag), the count, the annotations with their related rows, their tags.
        self.assertEqual(self.count(f"{url}?page=1"), (4, 100))
        self.assertEqual(self.count(url)[0], 2)  # the collection: the version and the count

    def test_provision_document_costs_the_same_for_10_or_500_annotations(self):
        """The provision document takes the same number of queries with 12 or 600 annotations in it,
        the first time (every item made) and after a change elsewhere (every item from the cache)."""
        urls = [reverse("reader:provision-annotations", args=[provision.treaty.slug, provision.slug])
                for provision in (self.few, self.many)]
        for user in (None, self.author):
            if user:
                self.client.force_login(user)
            (few, n_few), (many, n_many) = self.count(urls[0]), self.count(urls[1])
            (few_again, _), (many_again, _) = self.count(urls[0]), self.count(urls[1])
            with self.subTest(user=user):
                self.assertEqual((n_few, n_many), (12, 600))
                self.assertEqual((few, few_again), (many, many_again))
                if user is None:
                    # The version, the provision, each item's version and author (its keys a subquery),
                    # their tags; the first time also the annotations read whole and their tags.
                    self.assertEqual((few, few_again), (6, 4))


# --------------------------------------------------------------------------- streaming


class StreamingTests(TestCase):
    """The export streams: its memory does not grow with the number of annotations."""

    @classmethod
    def setUpTestData(cls):
        cls.provision = make_provision(text="The Parties shall exchange information regularly. " * 50, number=1)
        cls.author = make_user("ana")
        cls.tags = [Tag.objects.create(name=f"tag {n}", slug=f"tag-{n}") for n in range(3)]

    def peak(self):
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "export.jsonld"
            tracemalloc.start()
            try:
                call_command("export_annotations", str(path), stdout=io.StringIO())
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            written = json.loads(path.read_bytes())["total"]
        return peak, written

    def test_peak_memory_does_not_grow_with_the_annotations(self):
        """Exporting 2,000 annotations peaks at well under 4× the memory of exporting 500."""
        make_annotations(self.provision, self.author, 500, tags=self.tags)
        self.peak()  # warm up: imports, URL resolvers and query compilation are one-off costs
        small, written_small = self.peak()
        make_annotations(self.provision, self.author, 1500, tags=self.tags)
        large, written_large = self.peak()
        self.assertEqual((written_small, written_large), (500, 2000))
        print(f"\nexport peak memory: 500 annotations {small / 1e6:.2f} MB, 2000 annotations {large / 1e6:.2f} MB")
        self.assertLess(large, 2 * small)


# --------------------------------------------------------------------------- CSV


class CsvTests(AnnotationsInEveryState, TestCase):
    """The CSV for spreadsheet users."""

    def test_one_row_per_annotation_with_tags_joined_and_unicode_kept(self):
        """A header and a row per annotation; tags joined with "; "; UTF-8 with a BOM; Unicode intact."""
        data, _ = export("--format", "csv")
        self.assertTrue(data.startswith("\ufeff".encode()))
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        self.assertEqual(len(rows), Annotation.objects.filter(deleted_at__isnull=True).count())
        by_id = {int(row["id"]): row for row in rows}
        public = by_id[self.public.pk]
        self.assertEqual(set(public["tags"].split("; ")), {"state of war", "état de guerre"})
        self.assertEqual(public["body"], "**Published** — with “quotes”.")
        self.assertEqual(public["provision"], f"{self.treaty.short_title}, Article 4")
        self.assertEqual(public["permalink"], f"{BASE}{self.article.get_absolute_url()}#annotation-{self.public.pk}")
        self.assertEqual((public["start"], public["end"]), (str(self.public.start), str(self.public.end)))
        unicode = by_id[self.unicode.pk]
        self.assertTrue(unicode["quote"].startswith("𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and e\u0301 café ☕"))
        self.assertEqual(unicode["author"], "zoë")
        self.assertEqual(by_id[self.reply.pk]["reply_to"], str(self.public.pk))
        self.assertEqual(by_id[self.drifted.pk]["start"], "")
        self.assertIn("/workspace/", by_id[self.team.pk]["permalink"])

    def test_formulas_are_defused(self):
        """A note a spreadsheet would run as a formula starts with an apostrophe in the CSV."""
        make_annotation(self.article, self.ana, 0, 5, body='=HYPERLINK("http://evil.example","x")')
        data, _ = export("--format", "csv")
        self.assertIn("'=HYPERLINK(", data.decode("utf-8-sig"))


# --------------------------------------------------------------------------- import errors


class ImportErrorTests(AnnotationsInEveryState, TestCase):
    """A bad document stops the import with the item named, and nothing is saved."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.data, cls.document = export("--published")

    def assertRefused(self, data, *messages, options=()):
        """Import `data` into an empty database: it must fail with `messages` and leave nothing behind."""
        Annotation.objects.all().delete()
        Tag.objects.all().delete()
        users = User.objects.count()
        with self.assertRaises(CommandError) as raised:
            run_import(data, *options)
        for message in messages:
            self.assertIn(message, str(raised.exception))
        self.assertEqual((Annotation.objects.count(), Tag.objects.count(), User.objects.count()), (0, 0, users))
        return str(raised.exception)

    def spoiled(self, index, **changes):
        """The published export with item `index` changed (a None value removes the key), and that item's id."""
        document = json.loads(self.data)
        item = items(document)[index]
        for key, value in changes.items():
            if value is None:
                item.pop(key, None)
            else:
                item[key] = value
        return document, item["id"]

    def test_malformed_json(self):
        """A file that is not JSON is refused with the line and column."""
        self.assertRefused(self.data[:-40], "is not JSON", "line")

    def test_wrong_document_type(self):
        """A document that is not a collection, page or annotation is refused."""
        self.assertRefused({"type": "Squirrel"}, "is not an AnnotationCollection, AnnotationPage or Annotation")

    def test_truncated_collection(self):
        """A collection whose total does not match its items is refused."""
        document = json.loads(self.data)
        document["first"]["items"].pop()
        self.assertRefused(document, f"says it holds {document['total']} annotations but has")

    def test_wrong_item_type_names_the_item(self):
        """An item that is not an Annotation is named by index and id; the items before it are not saved."""
        document, item_id = self.spoiled(3, type="Squirrel")
        self.assertRefused(document, f"item 3 ({item_id})", "type must be Annotation")

    def test_unknown_target_source(self):
        """A target that is not a Glossa provision or excerpt is refused, naming the item."""
        document, item_id = self.spoiled(0, target={
            "source": f"{BASE}/treaties/{self.treaty.slug}/art-99/",
            "selector": [{"type": "TextQuoteSelector", "exact": "x"}],
        })
        self.assertRefused(document, f"item 0 ({item_id})", "no such provision here")
        document, item_id = self.spoiled(2, target={
            "source": "https://elsewhere.example/page", "selector": [{"type": "TextQuoteSelector", "exact": "x"}],
        })
        self.assertRefused(document, f"item 2 ({item_id})", "not a Glossa provision page or excerpt permalink")

    def test_bad_parts(self):
        """A time that is no date-time, an unknown creator, a bad Glossa term or body format, a bad
        position: refused with the item named."""
        cases = [
            ({"created": "yesterday"}, ("does not follow the W3C model: Annotation has multiple created key values "
                                        "or a single created key value that is not of format date-time "
                                        "(3.3.1-annotationCreatedValidated)")),
            ({"creator": None}, "no user unknown@glossa.example here: create them first, or import with --create-users"),
            ({"glossa:visibility": "everyone"}, "glossa:visibility must be one of"),
            ({"body": {"type": "TextualBody", "value": "<x/>", "format": "application/xml"}},
             "body 0 is application/xml: Glossa notes are Markdown, plain text or HTML"),
            ({"target": ["https://glossa.example/treaties/t/art-4/", "https://glossa.example/treaties/t/art-5/"]},
             "it has 2 targets: a Glossa annotation is on one text"),
        ]
        for changes, message in cases:
            with self.subTest(changes=changes):
                document, item_id = self.spoiled(0, **changes)
                self.assertRefused(document, f"item 0 ({item_id})", message)
        document = json.loads(self.data)
        first = items(document)[0]
        first["target"]["selector"] = [{"type": "TextPositionSelector", "start": 5, "end": 2}]
        self.assertRefused(document, "item 0", "TextPositionSelector needs whole numbers 0 <= start < end, not 5, 2")

    def test_every_item_at_fault_is_named(self):
        """Two bad items: both are named, by index and id, in one refusal."""
        document = json.loads(self.data)
        items(document)[1]["type"] = "Squirrel"
        items(document)[3]["created"] = "yesterday"
        self.assertRefused(document, "2 items cannot be imported: item 1 (", "; item 3 (")

    def test_missing_user_without_create_users(self):
        """An author who is not here stops the import, naming them and the option that would create them."""
        document, _ = self.spoiled(2)
        items(document)[2]["creator"] = {"type": "Person", "nickname": "nobody"}
        message = self.assertRefused(document, "no user nobody here", "--create-users", "item 2")
        self.assertFalse(User.objects.filter(username="nobody").exists(), message)

    def test_a_late_error_undoes_the_users_already_made(self):
        """Users made by --create-users for an early item are rolled back when a later item is refused."""
        document = json.loads(self.data)
        items(document)[0]["creator"] = {"type": "Person", "nickname": "newcomer"}
        last = items(document)[-1]
        last["target"]["source"] = f"{BASE}/treaties/{self.treaty.slug}/art-99/"
        self.assertRefused(document, f"item {len(items(document)) - 1}", "no such provision", options=["--create-users"])
        self.assertFalse(User.objects.filter(username="newcomer").exists())

    def test_reply_to_an_unknown_annotation(self):
        """A reply whose parent is neither in the file nor here is refused."""
        document = json.loads(self.data)
        document["first"]["items"] = [item for item in items(document) if item["motivation"] == "replying"]
        document["total"] = len(document["first"]["items"])
        self.assertRefused(document, "neither in the file nor here")


# --------------------------------------------------------------------------- dumpdata / loaddata


class DumpLoadTests(TransactionTestCase):
    """dumpdata and loaddata carry the whole site: corpus, accounts, roles, tags and annotations."""

    serialized_rollback = True  # restore the migrations' rows (the role groups) for the tests after

    def test_dumpdata_flush_loaddata_restores_everything(self):
        """After dumpdata, flush and loaddata, counts, roles and the W3C backup are as they were."""
        load_corpus()
        article = Provision.objects.get(slug="art-4")
        ana, cora = make_user("ana"), make_user("cora", role="Curators", is_staff=True)
        tag = Tag.objects.create(name="alliance", slug="alliance")
        note = make_annotation(article, ana, 0, 10, visibility="public", tags=[tag], body="A *note*.")
        annotation_row(parent=note, author=cora, body="A reply.", visibility="public")
        models = [Treaty, Provision, Source, Excerpt, ExcerptLink, Annotation, Tag, User, Group]
        counts = {model.__name__: model.objects.count() for model in models}
        roles = {group.name: sorted(group.permissions.values_list("codename", flat=True)) for group in Group.objects.all()}
        versions = versioning.current()
        backup, _ = export("--all")

        with tempfile.TemporaryDirectory() as directory:
            # XML, not JSON: Django's JSON encoder rounds times to milliseconds, and the W3C backup
            # (which keeps microseconds) would then differ. XML strips the spaces around text fields
            # instead (test_backup.FixtureFormatTests); these annotations' quotes have none at their edges.
            fixture = Path(directory) / "site.xml"
            call_command(
                "dumpdata", "treaty_app", "annotations", "auth", "--natural-foreign", "--format", "xml",
                # Permissions are re-made by flush's post_migrate; groups refer to them by natural key.
                "--exclude", "auth.permission", "--output", str(fixture), verbosity=0,
            )
            call_command("flush", "--no-input", verbosity=0)
            self.assertEqual((Annotation.objects.count(), Group.objects.count()), (0, 0))
            call_command("loaddata", str(fixture), verbosity=0)

        self.assertEqual({model.__name__: model.objects.count() for model in models}, counts)
        self.assertEqual(
            {group.name: sorted(group.permissions.values_list("codename", flat=True)) for group in Group.objects.all()},
            roles,
        )
        self.assertEqual(set(roles), {"Analysts", "Curators"})
        self.assertTrue(User.objects.get(username="ana").check_password("a-long-test-password"))
        self.assertTrue(User.objects.get(username="ana").has_perm("annotations.view_annotation"))
        self.assertEqual(Annotation.objects.get(pk=note.pk).body_html, note.body_html)
        after = versioning.current()  # never back: ETags stay honest
        self.assertTrue(all(after[scope][0] >= version for scope, (version, _) in versions.items()), (versions, after))
        self.assertEqual(export("--all")[0], backup)




class ProvisionDocumentItemTests(TestCase):
    """Each item of a provision's document is made once per version of what it shows (cached_items):
    every change to what it shows shows, including those that do not touch the annotation's row."""

    def test_every_change_to_what_an_item_shows_shows(self):
        from annotations import writes

        provision = make_provision(text="The Parties shall consult each other without delay.", number=4)
        ana = make_user("ana")
        cora = make_user("cora", role="Curators", is_staff=True)
        tag = Tag.objects.create(name="consultation", slug="consultation")
        note = writes.create(author=ana, target=provision, start=18, end=25, exact="consult", body="A note.",
                             tags=[tag])
        url = reverse("reader:provision-annotations", args=[provision.treaty.slug, provision.slug])
        self.client.force_login(ana)  # personal: never page-cached, so only the items' cache is at work

        def item():
            items = self.client.get(url).json()["first"]["items"]
            [found] = [i for i in items if str(note.pk) in i["id"]]
            return json.dumps(found)

        self.assertIn("consultation", item())

        def rename_tag():
            Tag.objects.filter(pk=tag.pk).update(name="joint consultation")  # no signal, no new version

        def add_tag():
            writes.retag(note.pk, curator=cora, tags=[tag, Tag.objects.create(name="sanctions", slug="sanctions")])

        def remove_tags():
            writes.retag(note.pk, curator=cora, tags=[])

        def rename_author():
            User.objects.filter(pk=ana.pk).update(username="anabel")

        def edit():
            current = Annotation.objects.get(pk=note.pk)
            writes.edit(note.pk, by=ana, version=current.version, body="Edited words.", tags=[])

        steps = [
            ("tag renamed", rename_tag, "joint consultation", '"consultation"'),
            ("tag added", add_tag, "sanctions", None),
            ("tags removed", remove_tags, None, "sanctions"),
            ("author renamed", rename_author, "anabel", None),
            ("edited", edit, "Edited words.", "A note."),
        ]
        for label, change, shown, gone in steps:
            with self.subTest(label):
                change()
                if label == "author renamed":
                    self.client.force_login(User.objects.get(pk=ana.pk))
                found = item()
                if shown:
                    self.assertIn(shown, found)
                if gone:
                    self.assertNotIn(gone, found)

    def test_runs_of_items_are_the_document_made_afresh(self):
        """Items cached a run at a time (exporting.RUN, 2 here) give the bytes of the document made
        afresh, after an edit in one run and after a deletion that shifts every later run."""
        from unittest import mock

        from django.core.cache import caches

        from annotations import exporting, writes

        provision = make_provision(text="The Parties shall consult each other without delay.", number=4)
        ana = make_user("ana")
        notes = [writes.create(author=ana, target=provision, start=18, end=25, exact="consult", body=f"Note {i}.")
                 for i in range(5)]
        url = reverse("reader:provision-annotations", args=[provision.treaty.slug, provision.slug])
        self.client.force_login(ana)

        def afresh():
            caches["cards"].clear()
            return self.client.get(url).content

        with mock.patch.object(exporting, "RUN", 2):
            self.assertEqual(self.client.get(url).content, afresh())
            self.client.get(url)  # every run cached
            current = Annotation.objects.get(pk=notes[2].pk)
            writes.edit(current.pk, by=ana, version=current.version, body="Edited in the middle run.", tags=[])
            cached = self.client.get(url).content
            self.assertIn(b"Edited in the middle run.", cached)
            self.assertEqual(cached, afresh())
            self.client.get(url)
            writes.delete(notes[0].pk, by=ana)
            cached = self.client.get(url)
            self.assertEqual(cached.json()["total"], 4)
            self.assertNotIn(b"Note 0.", cached.content)
            self.assertEqual(cached.content, afresh())

    def test_changes_through_the_admin_show(self):
        """A curator's doors to what an item shows: the annotation change form (its tags) and a history
        revert (its body); each shows in the cached document."""
        from annotations import writes

        provision = make_provision(text="The Parties shall consult each other without delay.", number=4)
        ana = make_user("ana")
        cora = make_user("cora", role="Curators", is_staff=True)
        tag = Tag.objects.create(name="consultation", slug="consultation")
        note = writes.create(author=ana, target=provision, start=18, end=25, exact="consult", body="First words.")
        current = Annotation.objects.get(pk=note.pk)
        writes.edit(note.pk, by=ana, version=current.version, body="Second words.", tags=[])
        url = reverse("reader:provision-annotations", args=[provision.treaty.slug, provision.slug])
        self.client.force_login(cora)  # personal: never page-cached, so only the items' cache is at work
        self.assertIn("Second words.", self.client.get(url).content.decode())

        change = reverse("admin:annotations_annotation_change", args=[note.pk])
        self.assertEqual(self.client.post(change, {"tags": [tag.pk], "_save": "Save"}).status_code, 302)
        self.assertIn('"consultation"', self.client.get(url).content.decode())

        first = Annotation.objects.get(pk=note.pk).history.order_by("history_date").first()
        revert = reverse("admin:annotations_annotation_simple_history", args=[note.pk, first.pk])
        self.assertEqual(self.client.post(revert, {"visibility": "team", "tags": [], "_save": "Save"}).status_code, 302)
        document = self.client.get(url).content.decode()
        self.assertIn("First words.", document)
        self.assertNotIn("Second words.", document)
