"""Language versions of a provision (issue 16 §1): imported with `import_treaty --language`, shown
aligned beside the provision's own wording, annotated on their own words, exported with their own
IRI and language, and imported back."""

import json
import tempfile
from io import StringIO
from pathlib import Path

from django.core.management import CommandError, call_command
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations import agreement, writes
from annotations.models import Annotation
from annotations.w3c_import import import_annotations
from treaty_app.models import LanguageVersion

from .factories import make_provision, make_treaty, make_user
from .pagetext import text_content

ENGLISH = (
    "In the event that one of the Parties is subjected to an armed attack and thus finds itself in a state of war, "
    "the other Party shall immediately provide military and other assistance.\n\n"
    "This shall be done in accordance with Article 51 of the UN Charter."
)
RUSSIAN = """Договор о всеобъемлющем стратегическом партнёрстве

Статья 4
В случае если одна из Сторон подвергнется вооружённому нападению и окажется таким образом в состоянии войны,
другая Сторона незамедлительно окажет военную и иную помощь.

Это делается в соответствии со статьёй 51 Устава ООН.
"""
RUSSIAN_TEXT = (
    "В случае если одна из Сторон подвергнется вооружённому нападению и окажется таким образом в состоянии войны, "
    "другая Сторона незамедлительно окажет военную и иную помощь.\n\n"
    "Это делается в соответствии со статьёй 51 Устава ООН."
)
KOREAN = """포괄적인 전략적 동반자관계에 관한 조약

제4조 (상호 원조)
쌍방중 어느 한쪽이 무력침공을 받아 전쟁상태에 처하는 경우 다른 한쪽은 지체없이 군사적 및 기타 원조를 제공한다.
"""
WAR = "в состоянии войны"


def import_file(text, *options):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "text.txt"
        path.write_text(text, encoding="utf-8")
        out = StringIO()
        call_command("import_treaty", str(path), *options, stdout=out)
        return out.getvalue()


class LanguageVersionTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t", short_title="Partnership Treaty")
        cls.provision = make_provision(cls.treaty, number=4, text=ENGLISH)
        cls.analyst = make_user("ana")
        cls.curator = make_user("cora", role="Curators", is_staff=True)

    def russian(self):
        import_file(RUSSIAN, "--treaty", "t", "--language", "ru", "--source", "Kremlin text")
        return LanguageVersion.objects.get(provision=self.provision, language="ru")

    def annotate(self, target, words, author=None, publish=False):
        start = target.text.index(words)
        annotation = writes.create(author=author or self.analyst, target=target, start=start,
                                   end=start + len(words), exact=words, body=f"On “{words}”.")
        if publish:
            writes.submit(annotation.pk, by=annotation.author)
            writes.publish(Annotation.objects.filter(pk=annotation.pk), curator=self.curator)
        return Annotation.objects.get(pk=annotation.pk)


class ImportTests(LanguageVersionTestCase):
    def test_a_russian_file_with_russian_headings_is_that_language_version(self):
        version = self.russian()
        self.assertEqual((version.text, version.status, version.source), (RUSSIAN_TEXT, "authentic", "Kremlin text"))
        self.provision.refresh_from_db()
        self.assertEqual(self.provision.text, ENGLISH)  # the provision's own wording is untouched

    def test_korean_headings_with_a_bracketed_heading(self):
        import_file(KOREAN, "--treaty", "t", "--language", "ko", "--status", "official")
        version = LanguageVersion.objects.get(language="ko")
        self.assertTrue(version.text.startswith("쌍방중 어느 한쪽이"))
        self.assertEqual(version.status, "official")

    def test_a_new_wording_places_again_only_the_annotations_on_that_version(self):
        version = self.russian()
        on_russian = self.annotate(version, WAR)
        on_english = self.annotate(self.provision, "in a state of war")
        output = import_file(RUSSIAN.replace("Это делается", "Это должно делаться"), "--treaty", "t", "--language", "ru")
        self.assertIn("Article 4 (ru): new wording saved; annotations placed again: 1 anchored.", output)
        on_russian.refresh_from_db()
        on_english.refresh_from_db()
        self.assertEqual(version.__class__.objects.get(pk=version.pk).text_version, 2)
        self.assertEqual((on_russian.text_version, on_english.text_version), (2, 1))
        self.assertEqual(LanguageVersion.objects.get(pk=version.pk).text[on_russian.start:on_russian.end], WAR)

    def test_bad_language_tags_and_dry_runs(self):
        for bad in ("russian", "r", "ru_RU", "ру"):
            with self.subTest(bad), self.assertRaisesMessage(CommandError, "must be a BCP 47 language tag"):
                import_file(RUSSIAN, "--treaty", "t", "--language", bad)
        with self.assertRaisesMessage(CommandError, "--language contains a lone surrogate"):
            import_file(RUSSIAN, "--treaty", "t", "--language", "ru-\udce9")
        import_file(RUSSIAN, "--treaty", "t", "--language", "RU", "--dry-run")
        self.assertFalse(LanguageVersion.objects.exists())
        import_file(RUSSIAN, "--treaty", "t", "--language", "RU")
        self.assertEqual(LanguageVersion.objects.get().language, "ru")  # written in its usual case

    def test_a_version_for_a_provision_the_treaty_lacks_is_refused_naming_the_line(self):
        with self.assertRaisesMessage(CommandError, "line 3: Partnership Treaty has no provision art-9"):
            import_file(RUSSIAN.replace("Статья 4", "Статья 9"), "--treaty", "t", "--language", "ru")
        self.assertFalse(LanguageVersion.objects.exists())


class PageTests(LanguageVersionTestCase):
    def test_the_versions_stand_aligned_beside_the_wording_and_each_element_holds_its_text(self):
        version = self.russian()
        self.annotate(version, WAR, publish=True)
        page = self.client.get(self.provision.get_absolute_url()).content.decode()
        self.assertEqual(text_content(page, "wording"), ENGLISH)
        self.assertEqual(text_content(page, "wording-ru"), RUSSIAN_TEXT)
        self.assertIn('class="versions versions-2"', page)
        self.assertIn('<div class="version-column col-2" lang="ru">', page)
        self.assertIn("Russian <span class=\"version-status\">(authentic text)</span>", page)
        self.assertIn('id="view-2"', page)  # the phone's one-column switch
        self.assertIn("On the Russian text", page)

    def test_the_version_page_has_the_version_as_its_wording(self):
        version = self.russian()
        response = self.client.get(version.get_absolute_url())
        self.assertEqual(version.get_absolute_url(), "/treaties/t/art-4/ru/")
        self.assertEqual(text_content(response.content, "wording"), RUSSIAN_TEXT)
        self.assertEqual(text_content(response.content, "wording-en"), ENGLISH)
        self.assertEqual(self.client.get("/treaties/t/art-4/ko/").status_code, 404)

    def test_a_highlight_stays_in_its_own_text(self):
        version = self.russian()
        annotation = self.annotate(version, WAR, publish=True)
        page = self.client.get(self.provision.get_absolute_url()).content.decode()
        english = page[page.index('id="wording"'):page.index('id="wording-ru"')]
        self.assertNotIn(f'id="hl-{annotation.pk}"', english)
        self.assertIn(f'id="hl-{annotation.pk}"', page[page.index('id="wording-ru"'):])

    def test_agreement_units_never_join_spans_of_two_texts(self):
        version = self.russian()
        other = make_user("ben")
        # The same offsets, in two texts: not one unit.
        start = RUSSIAN_TEXT.index(WAR)
        mine = writes.create(author=self.analyst, target=version, start=start, end=start + len(WAR), exact=WAR,
                             body="ru")
        theirs = writes.create(author=other, target=self.provision, start=start, end=start + len(WAR),
                               exact=ENGLISH[start:start + len(WAR)], body="en")
        self.assertEqual(agreement.units([mine, theirs], share=0.5), [])


class ExportTests(LanguageVersionTestCase):
    def test_the_source_is_the_versions_iri_with_its_language_and_it_imports_back_identically(self):
        version = self.russian()
        annotation = self.annotate(version, WAR, publish=True)
        with tempfile.TemporaryDirectory() as directory:
            first, second = Path(directory) / "first.jsonld", Path(directory) / "second.jsonld"
            call_command("export_annotations", str(first), "--base-url", "http://testserver", stdout=StringIO())
            document = json.loads(first.read_text())
            items = [item for page in [document["first"]] for item in page["items"]]
            self.assertEqual(items[0]["target"]["source"],
                             {"id": f"http://testserver{reverse('reader:provision-language', args=['t', 'art-4', 'ru'])}#wording",
                              "language": "ru"})
            Annotation.objects.all().delete()
            import_annotations(json.loads(first.read_text()))
            restored = Annotation.objects.get(pk=annotation.pk)
            self.assertEqual((restored.language_version, restored.start, restored.exact),
                             (version, annotation.start, WAR))
            call_command("export_annotations", str(second), "--base-url", "http://testserver", stdout=StringIO())
            self.assertEqual(first.read_bytes(), second.read_bytes())

    def test_a_source_naming_a_version_not_here_is_refused(self):
        self.russian()
        annotation = self.annotate(LanguageVersion.objects.get(), WAR)
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "export.jsonld"
            call_command("export_annotations", str(path), "--base-url", "http://testserver", stdout=StringIO())
            text = path.read_text().replace("/art-4/ru/#wording", "/art-4/ko/#wording")
            Annotation.objects.filter(pk=annotation.pk).delete()
            path.write_text(text)
            with self.assertRaisesMessage(CommandError, "no such language version here"):
                call_command("import_annotations", str(path), stdout=StringIO())


class AdminTests(LanguageVersionTestCase):
    """A curator's edit of a language version and its history revert take the one wording path."""

    def change(self, version, text):
        self.client.force_login(self.curator)
        return self.client.post(reverse("admin:treaty_app_languageversion_change", args=[version.pk]), {
            "provision": self.provision.pk, "language": "ru", "status": "authentic", "source": "Kremlin text",
            "text": text, "_save": "Save",
        })

    def test_an_edit_and_a_revert_place_the_annotations_again(self):
        version = self.russian()
        annotation = self.annotate(version, WAR)
        edited = "Преамбула опущена. " + RUSSIAN_TEXT
        response = self.change(version, edited)
        self.assertEqual(response.status_code, 302)
        annotation.refresh_from_db()
        self.assertEqual((annotation.start, annotation.text_version), (edited.index(WAR), 2))
        first = version.history.order_by("history_date").first()
        response = self.client.post(
            reverse("admin:treaty_app_languageversion_simple_history", args=[version.pk, first.history_id]),
            {"provision": self.provision.pk, "language": "ru", "status": "authentic", "source": "Kremlin text",
             "text": RUSSIAN_TEXT, "_save": "Save"},
        )
        self.assertEqual(response.status_code, 302)
        annotation.refresh_from_db()
        self.assertEqual((annotation.start, annotation.text_version), (RUSSIAN_TEXT.index(WAR), 3))
        reasons = list(annotation.history.order_by("history_date").values_list("history_change_reason", flat=True))
        self.assertEqual(reasons[-2:], ["Placed again: Wording edited in the admin",
                                        "Placed again: Reverted to an earlier version in the admin"])

    def test_a_bad_language_tag_in_the_admin_is_refused(self):
        version = self.russian()
        self.client.force_login(self.curator)
        response = self.client.post(reverse("admin:treaty_app_languageversion_change", args=[version.pk]), {
            "provision": self.provision.pk, "language": "Russian", "status": "authentic", "source": "",
            "text": RUSSIAN_TEXT, "_save": "Save",
        })
        self.assertContains(response, "must be a BCP 47 language tag such as ru, ko or en-GB")
        self.assertEqual(LanguageVersion.objects.get().language, "ru")


class WorkspaceTests(LanguageVersionTestCase):
    """Analysts annotate a language version's words in the workspace, with and without JavaScript."""

    def setUp(self):
        self.version = self.russian()
        self.client.force_login(self.analyst)
        self.url = reverse("annotations:workspace", args=["t", "art-4"])
        self.create_url = reverse("annotations:create", args=["t", "art-4"])

    def test_the_versions_stand_beside_the_wording_each_element_holding_its_text(self):
        page = self.client.get(self.url).content.decode()
        self.assertEqual(text_content(page, "wording"), ENGLISH)
        self.assertEqual(text_content(page, "wording-ru"), RUSSIAN_TEXT)
        self.assertIn('data-target="version" data-language="ru"', page)
        self.assertIn('<option value="ru">Russian (ru)</option>', page)  # the typed-words form's choice

    def test_typed_words_in_the_russian_text_without_javascript(self):
        response = self.client.post(self.create_url, {"exact": WAR, "language": "ru", "body": "No JS.",
                                                      "visibility": "team"})
        self.assertEqual(response.status_code, 302)
        annotation = Annotation.objects.get(body="No JS.")
        self.assertEqual((annotation.language_version, annotation.provision, annotation.exact),
                         (self.version, self.provision, WAR))

    def test_an_htmx_selection_answers_with_the_versions_highlights(self):
        start = RUSSIAN_TEXT.index(WAR)
        response = self.client.post(self.create_url, {
            "exact": WAR, "start": start, "end": start + len(WAR), "language": "ru", "body": "HTMX.",
            "visibility": "team",
        }, headers={"HX-Request": "true"})
        self.assertEqual(response.status_code, 200)
        annotation = Annotation.objects.get(body="HTMX.")
        html = response.content.decode()
        self.assertEqual(text_content(html, "wording-ru"), RUSSIAN_TEXT)
        ru = html[html.index('id="wording-ru"'):]
        self.assertIn(f'id="hl-{annotation.pk}"', ru)
        english = html[html.index('id="wording"'):html.index('id="wording-ru"')]
        self.assertNotIn(f'id="hl-{annotation.pk}"', english)

    def test_words_of_the_english_text_are_not_found_in_the_russian_one(self):
        response = self.client.post(self.create_url, {"exact": "in a state of war", "language": "ru", "body": "x",
                                                      "visibility": "team"})
        self.assertEqual(response.status_code, 422)
        response = self.client.post(self.create_url, {"exact": WAR, "language": "ko", "body": "x",
                                                      "visibility": "team"})
        self.assertContains(response, "That language version is not one of this provision", status_code=422)
        self.assertFalse(Annotation.objects.exists())

    def test_queries_stay_flat_with_annotations_and_replies_on_the_version(self):
        def count():
            with CaptureQueriesContext(connection) as captured:
                self.assertEqual(self.client.get(self.url).status_code, 200)
            return len(captured)

        writes.reply(self.annotate(self.version, WAR).pk, author=self.analyst, body="A reply.")
        one = count()
        for words in ("другая Сторона", "военную и иную помощь", "Устава ООН", "статьёй 51"):
            annotation = self.annotate(self.version, words)
            writes.reply(annotation.pk, author=self.analyst, body="A reply.")
        self.assertEqual(count(), one)


class SearchTests(LanguageVersionTestCase):
    """Each language version is searched with its own language's rules, and a hit says which it is in."""

    def setUp(self):
        self.russian()
        import_file(KOREAN, "--treaty", "t", "--language", "ko", "--status", "official")

    def version_hits(self, q):
        response = self.client.get("/search/", {"q": q})
        self.assertEqual(response.status_code, 200)
        hits = [hit for group in response.context["results"].groups for hit in group.hits]
        return response, [(hit.kind, hit.provision.slug, getattr(hit.item, "language", None)) for hit in hits]

    def test_a_russian_word_is_found_by_its_stem(self):
        """"война" (war, nominative) finds "в состоянии войны"; "нападение" finds "нападению"; the hit names
        the Russian version and links to its wording, the stemmed form marked."""
        for query, marked in (("война", "<mark>войны</mark>"), ("нападение", "<mark>нападению</mark>")):
            with self.subTest(query=query):
                response, hits = self.version_hits(query)
                self.assertEqual(hits, [("version", "art-4", "ru")])
                self.assertContains(response, marked)
                self.assertContains(response, "Wording in Russian (<span lang=\"en\">ru</span>), authentic")
                self.assertContains(response, 'href="/treaties/t/art-4/ru/#wording"')
                self.assertContains(response, '<p class="hit-snippet" lang="ru">')

    def test_korean_is_searched_word_for_word(self):
        """Korean has no stemmer: a word is found as written, and the hit names the Korean version."""
        response, hits = self.version_hits("전쟁상태에")
        self.assertEqual(hits, [("version", "art-4", "ko")])
        self.assertContains(response, "Wording in Korean (<span lang=\"en\">ko</span>), official translation")

    def test_an_english_word_is_a_hit_on_the_english_wording_only(self):
        response, hits = self.version_hits("assistance")
        self.assertEqual(hits, [("wording", "art-4", None)])

    def test_the_provision_facet_counts_version_hits(self):
        response = self.client.get("/search/", {"q": "война"})
        provision_facet = response.context["results"].facets[0]
        self.assertEqual(provision_facet.options, [("art-4", "Article 4", 1, "q=%D0%B2%D0%BE%D0%B9%D0%BD%D0%B0&provision=art-4")])


class TranslationDiscrepancyTests(LanguageVersionTestCase):
    """A note on words of one version names a note on the same passage in another: both show the pair."""

    def setUp(self):
        self.version = self.russian()
        self.on_russian = self.annotate(self.version, WAR)
        self.client.force_login(self.analyst)
        self.create_url = reverse("annotations:create", args=["t", "art-4"])
        self.workspace = reverse("annotations:workspace", args=["t", "art-4"])

    def pair(self, counterpart, *, exact="state of war", language="", htmx=False):
        data = {"exact": exact, "language": language, "body": "Войны is narrower.", "visibility": "team",
                "counterpart": counterpart}
        return self.client.post(self.create_url, data, headers={"HX-Request": "true"} if htmx else {})

    def test_pairing_without_javascript_shows_the_pair_on_both_cards(self):
        response = self.pair(self.on_russian.pk)
        self.assertEqual(response.status_code, 302)
        english = Annotation.objects.get(body="Войны is narrower.")
        self.assertEqual((english.counterpart, english.language_version), (self.on_russian, None))
        page = self.client.get(self.workspace)
        self.assertContains(page, "Translation discrepancy, compared with:", count=2)
        self.assertContains(page, f'<a href="#annotation-{self.on_russian.pk}" lang="ru">“{WAR}”</a>', html=False)
        self.assertContains(page, f"in the Russian text (ru), note {self.on_russian.pk}")
        self.assertContains(page, f'<a href="#annotation-{english.pk}" lang="en">“state of war”</a>')
        self.assertContains(page, f"in the provision’s own wording, note {english.pk}")

    def test_pairing_with_htmx_answers_with_the_new_card_showing_the_pair(self):
        response = self.pair(self.on_russian.pk, htmx=True)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, f"in the Russian text (ru), note {self.on_russian.pk}")
        english = Annotation.objects.get(body="Войны is narrower.")
        # The Russian note's card changed too: it comes again, out of band, naming the English words.
        self.assertContains(response, f'id="annotation-{self.on_russian.pk}"', count=1)
        html = response.content.decode()
        russian_card = html[html.index(f'<li id="annotation-{self.on_russian.pk}"'):]
        self.assertIn('data-hx-swap-oob="true"', russian_card[:russian_card.index(">")])
        self.assertIn(f"in the provision’s own wording, note {english.pk}", russian_card)

    def test_the_form_offers_the_pairing_only_where_there_are_versions(self):
        self.assertContains(self.client.get(self.workspace), 'name="counterpart"')
        other = make_provision(self.treaty, number=5, text="No other text.")
        page = self.client.get(reverse("annotations:workspace", args=["t", other.slug]))
        self.assertNotContains(page, 'name="counterpart"')

    def test_refusals_say_why_and_save_nothing(self):
        on_english = self.annotate(self.provision, "state of war")
        bob = make_user("bob")
        bobs_private = writes.create(author=bob, target=self.version, start=0, end=1, exact=RUSSIAN_TEXT[0],
                                     body="Mine.", visibility="private")
        elsewhere = self.annotate(make_provision(self.treaty, number=6, text="Other words here."), "Other")
        before = Annotation.objects.count()
        cases = [
            (on_english.pk, 409, f"Annotation {on_english.pk} is on the same text"),
            (elsewhere.pk, 409, f"Annotation {elsewhere.pk} is not on this provision"),
            (bobs_private.pk, 404, f"There is no annotation {bobs_private.pk} you may read"),
            (987654, 404, "There is no annotation 987654 you may read"),
            ("twelve", 422, "Enter a whole number."),
            (10**20, 422, "Ensure this value is less than or equal to"),
        ]
        for counterpart, status, message in cases:
            with self.subTest(counterpart=counterpart):
                self.assertContains(self.pair(counterpart, exact="military"), message, status_code=status)
        self.assertEqual(Annotation.objects.count(), before)

    def test_the_public_sees_a_pair_only_when_both_notes_are_published(self):
        self.pair(self.on_russian.pk)
        english = Annotation.objects.get(body="Войны is narrower.")
        writes.submit(english.pk, by=self.analyst)
        writes.publish(Annotation.objects.filter(pk=english.pk), curator=self.curator)
        self.client.logout()
        public = reverse("reader:provision", args=["t", "art-4"])
        self.assertContains(self.client.get(public), f'id="annotation-{english.pk}"')
        self.assertNotContains(self.client.get(public), "Translation discrepancy")
        writes.submit(self.on_russian.pk, by=self.analyst)
        writes.publish(Annotation.objects.filter(pk=self.on_russian.pk), curator=self.curator)
        page = self.client.get(public)
        self.assertContains(page, "Translation discrepancy, compared with:", count=2)
        self.assertContains(page, f"in the Russian text (ru), note {self.on_russian.pk}")


class HistoryRevertTests(LanguageVersionTestCase):
    def test_reverting_a_note_on_the_russian_text_keeps_it_on_its_words(self):
        """A history revert checks the note's words against its own text: against the English wording it
        moved a Russian note onto English offsets."""
        version = self.russian()
        annotation = self.annotate(version, WAR)
        first = annotation.history.earliest("history_date").history_id
        writes.edit(annotation.pk, by=self.analyst, version=annotation.version, body="Changed.")
        writes.revert(annotation.pk, by=self.curator, history_id=first)
        reverted = Annotation.objects.get(pk=annotation.pk)
        start = RUSSIAN_TEXT.index(WAR)
        self.assertEqual(
            (reverted.body, reverted.language_version, reverted.start, reverted.end, reverted.placement),
            (f"On “{WAR}”.", version, start, start + len(WAR), "anchored"),
        )


class PairExportTests(LanguageVersionTestCase):
    """A translation discrepancy survives an export and an import: the pair is named ``glossa:counterpart``."""

    def setUp(self):
        self.version = self.russian()
        self.russian_note = self.annotate(self.version, WAR)
        start = ENGLISH.index("state of war")
        self.english_note = writes.create(
            author=self.analyst, target=self.provision, start=start, end=start + len("state of war"),
            exact="state of war", body="The English is looser.", counterpart=self.russian_note.pk,
        )

    def export(self, path, *args):
        call_command("export_annotations", str(path), "--base-url", "http://testserver", *args, stdout=StringIO())
        document = json.loads(path.read_text())
        items = document["items"] if "items" in document else document["first"]["items"]
        return {item["id"].rsplit("-", 1)[1]: item for item in items}

    def test_the_backup_names_the_pair_and_restores_it_byte_for_byte(self):
        page = f"http://testserver{self.provision.get_absolute_url()}"
        with tempfile.TemporaryDirectory() as directory:
            first, second = Path(directory) / "first.jsonld", Path(directory) / "second.jsonld"
            items = self.export(first, "--all")
            self.assertEqual(items[str(self.english_note.pk)]["glossa:counterpart"],
                             f"{page}#annotation-{self.russian_note.pk}")
            self.assertNotIn("glossa:counterpart", items[str(self.russian_note.pk)])
            Annotation.objects.all().delete()
            out = StringIO()
            call_command("import_annotations", str(first), stdout=out)
            self.assertNotIn("counterpart", out.getvalue())  # nothing reported as not kept
            self.assertEqual(Annotation.objects.get(pk=self.english_note.pk).counterpart_id, self.russian_note.pk)
            self.export(second, "--all")
            self.assertEqual(first.read_bytes(), second.read_bytes())

    def test_the_public_export_names_a_pair_only_when_both_notes_are_published(self):
        for note in (self.english_note, self.russian_note):
            writes.submit(note.pk, by=self.analyst)
        writes.publish(Annotation.objects.filter(pk=self.english_note.pk), curator=self.curator)
        url = reverse("reader:provision-annotations", args=["t", "art-4"])
        self.assertNotIn("glossa:counterpart", self.client.get(url).content.decode())
        self.assertNotIn("glossa:counterpart", self.client.get(reverse("reader:annotations-export")).content.decode())
        writes.publish(Annotation.objects.filter(pk=self.russian_note.pk), curator=self.curator)
        document = self.client.get(url).json()
        items = document["items"] if "items" in document else document["first"]["items"]
        english = next(item for item in items if item["id"].endswith(f"-{self.english_note.pk}"))
        page = english["id"].split("#")[0]  # the site's base URL, as configured
        self.assertEqual(english["glossa:counterpart"], f"{page}#annotation-{self.russian_note.pk}")

    def test_a_counterpart_that_breaks_the_rule_is_reported_and_the_note_imported(self):
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "backup.jsonld"
            self.export(path, "--all")
            # Point the English note at itself: the same text.
            document = json.loads(path.read_text())
            for item in document["first"]["items"] if "first" in document else document["items"]:
                if "glossa:counterpart" in item:
                    item["glossa:counterpart"] = item["id"]
            path.write_text(json.dumps(document))
            Annotation.objects.all().delete()
            out = StringIO()
            call_command("import_annotations", str(path), stdout=out)
        self.assertIn(f"glossa:counterpart: Annotation {self.english_note.pk} is on the same text", out.getvalue())
        self.assertIsNone(Annotation.objects.get(pk=self.english_note.pk).counterpart_id)
