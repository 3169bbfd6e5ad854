import datetime
import json
import shutil
import tempfile
from io import StringIO
from pathlib import Path

from django.core.management import CommandError, call_command
from django.test import TestCase

from treaty_app import versioning
from treaty_app.importing import (
    CORPUS_DIR,
    CorpusError,
    import_source,
    load_corpus,
    read_capture,
)
from treaty_app.treaty_text import import_treaty
from treaty_app.models import Excerpt, ExcerptLink, Provision, QuotedPassage, Source, Treaty

from .factories import make_user

MODELS = [Treaty, Provision, Source, Excerpt, ExcerptLink, QuotedPassage]


def row_counts():
    return {model.__name__: model.objects.count() for model in MODELS}


class LoadCorpusTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.treaty = Treaty.objects.get()

    def test_treaty_has_preamble_and_23_articles_in_order(self):
        """The shipped corpus holds the preamble and Articles 1–23, in reading order."""
        slugs = list(self.treaty.provisions.in_order().values_list("slug", flat=True))
        self.assertEqual(slugs, ["preamble"] + [f"art-{n}" for n in range(1, 24)])

    def test_five_sources_loaded_clean(self):
        """The five commentaries are loaded, their bodies free of site chrome, their captures kept."""
        self.assertEqual(Source.objects.count(), 5)
        for source in Source.objects.all():
            self.assertNotIn("More on this topic", source.body)
            self.assertNotIn("Follow us on", source.body)
            self.assertIn(source.body.split("\n\n")[0][:40], source.capture)

    def test_running_twice_changes_nothing(self):
        """A second load_corpus leaves every row count and every provision's wording as it was."""
        before = row_counts()
        wording = list(Provision.objects.values_list("slug", "text", "coverage", "text_version"))
        version = versioning.current()
        report = load_corpus()
        self.assertEqual(versioning.current(), version, "a rerun must write nothing")
        self.assertEqual(row_counts(), before)
        self.assertEqual(list(Provision.objects.values_list("slug", "text", "coverage", "text_version")), wording)
        self.assertEqual(sum(report.created.values()), 0, report.summary())

    def test_every_quoted_passage_is_verbatim_in_its_source(self):
        """Each quoted passage is the source's own text at its recorded offsets."""
        for passage in QuotedPassage.objects.select_related("source"):
            self.assertEqual(passage.source.body[passage.source_start : passage.source_end], passage.text)

    def test_quoted_provision_wording_is_its_passages(self):
        """A quoted provision's wording is its attributed passages, and nothing else."""
        article_4 = self.treaty.provisions.get(slug="art-4")
        self.assertEqual(article_4.coverage, "quoted")
        self.assertEqual(article_4.paragraphs, [p.text for p in article_4.quoted_passages.all()])
        self.assertIn("and thus finds itself in a state of war", article_4.text)

    def test_coverage_is_honest(self):
        """Provisions no commentary describes are `none`; described but unquoted ones are `summary`."""
        coverage = dict(self.treaty.provisions.values_list("slug", "coverage"))
        self.assertEqual(coverage["art-9"], "none")
        self.assertEqual(coverage["art-14"], "summary")
        self.assertEqual(coverage["preamble"], "quoted")
        self.assertFalse(self.treaty.provisions.filter(coverage__in=["summary", "none"]).exclude(text="").exists())

    def test_duplicated_paragraphs_yield_one_excerpt(self):
        """The RIAC capture repeats paragraphs; each distinct text becomes one excerpt only."""
        riac = Source.objects.get(capture_name="004_adae101498f390d2.txt")
        repeated = "This stands in stark contrast to the speculations of Western experts"
        self.assertEqual(riac.body.count(repeated), 2)
        texts = list(riac.excerpts.values_list("text", flat=True))
        self.assertEqual(len(texts), len(set(texts)))

    def test_no_link_to_another_instruments_article(self):
        """“Article 51 of the UN Charter” never becomes a link to Article 51 (or anything) of this treaty."""
        self.assertFalse(ExcerptLink.objects.filter(reference__icontains="51").exists())
        self.assertFalse(ExcerptLink.objects.filter(reference__icontains="NATO").exists())

    def test_explicit_references_are_linked_and_approved(self):
        """The corpus' explicit references (e.g. “Articles 18–20”) are linked to each provision they name."""
        linked = set(
            ExcerptLink.objects.filter(method="explicit", state="approved").values_list("provision__slug", flat=True)
        )
        self.assertTrue({"preamble", "art-3", "art-4", "art-8", "art-16", "art-18", "art-19", "art-20", "art-23"} <= linked)

    def test_curator_decisions_survive_a_reload(self):
        """Reloading the corpus does not undo a curator's rejection of a link."""
        link = ExcerptLink.objects.filter(provision__slug="art-4").first()
        link.state = ExcerptLink.State.REJECTED
        link.save()
        load_corpus()
        link.refresh_from_db()
        self.assertEqual(link.state, ExcerptLink.State.REJECTED)

    def test_command_reports_counts(self):
        """The management command says what it did."""
        out = StringIO()
        call_command("load_corpus", stdout=out)
        self.assertIn("provisions: 0 created", out.getvalue())


class LoadCorpusFailureTests(TestCase):
    def broken_corpus(self, mutate):
        directory = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, directory)
        for path in CORPUS_DIR.iterdir():
            shutil.copy(path, directory / path.name)
        manifest = json.loads((directory / "corpus.json").read_text())
        mutate(manifest)
        (directory / "corpus.json").write_text(json.dumps(manifest))
        return directory

    def test_failure_leaves_the_database_as_it_was(self):
        """A passage that is not in its source aborts the load and rolls every row back."""

        def break_last_passage(manifest):
            manifest["provisions"][20]["passages"][0]["quote"] = "Words no commentator wrote."

        with self.assertRaisesMessage(CorpusError, "provision art-20: the quoted passage is not in"):
            load_corpus(self.broken_corpus(break_last_passage))
        self.assertEqual(set(row_counts().values()), {0})

    def test_missing_capture_is_named(self):
        """A capture missing from the corpus directory is named in the error."""

        def rename(manifest):
            manifest["sources"][2]["file"] = "gone.txt"

        with self.assertRaisesMessage(CorpusError, "gone.txt: no such file"):
            load_corpus(self.broken_corpus(rename))
        self.assertEqual(Source.objects.count(), 0)


CAPTURE = """EN|FR|RU
Follow us on:

A test commentary

First, Article 4 of the treaty is its core, and Articles 18–20 deal with information.

Assistance must follow Article 51 of the UN Charter and article 5 of the NATO treaty is different.

The preamble recalls the UN Charter.

A paragraph with no reference at all.

First, Article 4 of the treaty is its core, and Articles 18–20 deal with information.

More on this topic
Something else entirely, Article 7
"""


class ImportSourceTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.treaty = Treaty.objects.get()

    def import_capture(self):
        return import_source(CAPTURE, capture_name="test.txt", treaty=self.treaty, title="A test commentary")

    def test_references_become_proposed_links(self):
        """Each explicit reference to this treaty becomes a proposed link; other instruments are ignored."""
        source, _ = self.import_capture()
        links = ExcerptLink.objects.filter(excerpt__source=source)
        self.assertEqual(
            sorted(links.values_list("provision__slug", flat=True)),
            ["art-18", "art-19", "art-20", "art-4", "preamble"],
        )
        self.assertEqual(set(links.values_list("state", flat=True)), {"proposed"})
        self.assertEqual(set(links.values_list("method", flat=True)), {"explicit"})

    def test_repeated_paragraph_gives_one_excerpt(self):
        """The repeated paragraph produces one excerpt, at its first occurrence."""
        source, _ = self.import_capture()
        self.assertEqual(source.excerpts.count(), 2)
        self.assertEqual(source.excerpts.first().start, source.body.index("First, Article 4"))

    def test_import_is_idempotent(self):
        """Importing the same capture twice changes nothing."""
        self.import_capture()
        before = row_counts()
        _, report = self.import_capture()
        self.assertEqual(row_counts(), before)
        self.assertEqual(sum(report.created.values()), 0)

    def test_a_different_capture_under_the_same_name_is_refused(self):
        """A changed capture is not silently swapped under existing excerpts."""
        self.import_capture()
        with self.assertRaisesMessage(CorpusError, "a different capture with this name is already loaded"):
            import_source(CAPTURE + "\nMore text.", capture_name="test.txt", treaty=self.treaty)

    def test_command_with_bad_date_fails_cleanly(self):
        """A malformed --date is a clear CommandError and nothing is saved."""
        path = Path(tempfile.mkdtemp()) / "capture.txt"
        path.write_text(CAPTURE)
        with self.assertRaisesMessage(CommandError, "not a date in the form YYYY-MM-DD"):
            call_command("import_source", str(path), "--date", "26/06/2024")
        self.assertFalse(Source.objects.filter(capture_name="capture.txt").exists())

    def test_command_imports_a_file(self):
        """import_source FILE stores the source with the given facts."""
        path = Path(tempfile.mkdtemp()) / "capture.txt"
        path.write_text(CAPTURE)
        call_command("import_source", str(path), "--title", "A test commentary", "--date", "2024-07-01",
                     "--author", "A. Writer", stdout=StringIO())
        source = Source.objects.get(capture_name="capture.txt")
        self.assertEqual((source.author, str(source.published_on)), ("A. Writer", "2024-07-01"))

    def test_command_on_missing_file(self):
        """A missing file is a CommandError, not a traceback."""
        with self.assertRaisesMessage(CommandError, "no such file"):
            call_command("import_source", "/nonexistent/capture.txt")


OFFICIAL = """Treaty on Comprehensive Strategic Partnership (test rendering)

Preamble
The Parties, wishing to test
the importer,

have agreed as follows:

Article 1. Partnership
The Parties shall test.

Article 4
In the event that one of the Parties is subjected to an armed attack and thus finds itself in a state of war,
the other Party shall provide assistance.
"""


class ImportTreatyTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.treaty = Treaty.objects.get()

    def test_replaces_wording_and_marks_full(self):
        """Imported provisions hold the official wording, marked full, with a new text version."""
        version = self.treaty.provisions.get(slug="art-4").text_version
        import_treaty(OFFICIAL, treaty=self.treaty)
        article_4 = self.treaty.provisions.get(slug="art-4")
        self.assertEqual(article_4.coverage, "full")
        self.assertEqual(article_4.text_version, version + 1)
        self.assertTrue(article_4.text.startswith("In the event that one of the Parties"))
        self.assertNotIn("\n", article_4.text)
        preamble = self.treaty.provisions.get(slug="preamble")
        self.assertEqual(preamble.paragraphs, ["The Parties, wishing to test the importer,", "have agreed as follows:"])
        self.assertEqual(self.treaty.provisions.get(slug="art-1").heading, "Partnership")

    def test_untouched_provisions_keep_their_wording(self):
        """Provisions absent from the file keep what they had."""
        before = self.treaty.provisions.get(slug="art-16").text
        import_treaty(OFFICIAL, treaty=self.treaty)
        self.assertEqual(self.treaty.provisions.get(slug="art-16").text, before)

    def test_import_twice_changes_nothing(self):
        """A second import of the same text bumps no version."""
        import_treaty(OFFICIAL, treaty=self.treaty)
        versions = list(Provision.objects.values_list("text_version", flat=True))
        report = import_treaty(OFFICIAL, treaty=self.treaty)
        self.assertEqual(list(Provision.objects.values_list("text_version", flat=True)), versions)
        self.assertEqual(report.updated["provisions"], 0)

    def test_load_corpus_never_overwrites_full_text(self):
        """Reloading the commentators' quotations leaves an imported official text in place."""
        import_treaty(OFFICIAL, treaty=self.treaty)
        load_corpus()
        self.assertEqual(self.treaty.provisions.get(slug="art-4").coverage, "full")

    def test_errors_name_the_line_and_change_nothing(self):
        """Bad files fail with the line at fault, and no provision changes."""
        before = list(Provision.objects.values_list("text", "text_version"))
        cases = {
            "Article 24\nWords.\n": "line 1: DPRK–Russia Treaty (2024) has no provision art-24",
            "Article 1\nWords.\n\nArticle 1\nMore.\n": "line 4: art-1 appears a second time (first at line 1)",
            "Article 1\nWords.\nArticle 2\n\n": "line 3: art-2 has no wording",
            "Just some text.\n": "no “Preamble” or “Article N” heading found",
            "Article 1\nNew words.\nArticle 99\nMore.\n": "line 3",
        }
        for text, message in cases.items():
            with self.subTest(text=text), self.assertRaisesMessage(CorpusError, message):
                import_treaty(text, treaty=self.treaty)
        self.assertEqual(list(Provision.objects.values_list("text", "text_version")), before)

    def test_command(self):
        """import_treaty FILE --treaty SLUG reports what it did, saying the title differs, and refuses a
        bad file with a CommandError."""
        directory = Path(tempfile.mkdtemp())
        (directory / "good.txt").write_text(OFFICIAL)
        (directory / "bad.txt").write_text("DPRK–Russia Treaty (2024)\n\nArticle 77\nWords.\n")
        out = StringIO()
        call_command("import_treaty", str(directory / "good.txt"), "--treaty", "dprk-russia-2024", stdout=out)
        self.assertIn("is not that of DPRK–Russia Treaty (2024); imported into it because --treaty", out.getvalue())
        self.assertIn("provisions: 0 created, 3 updated", out.getvalue())
        with self.assertRaisesMessage(CommandError, "has no provision art-77"):
            call_command("import_treaty", str(directory / "bad.txt"))


class ImportTreatySafetyTests(TestCase):
    """import_treaty cannot clobber: the file names its treaty, a dry run writes nothing, --new creates."""

    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.treaty = Treaty.objects.get()
        cls.directory = Path(tempfile.mkdtemp())

    def file(self, name, text):
        path = self.directory / name
        path.write_text(text)
        return str(path)

    def wording(self):
        return list(Provision.objects.order_by("pk").values_list("text", "text_version", "coverage"))

    def test_another_treatys_text_stops_the_import(self):
        """With one treaty here, a file titled as another treaty changes nothing and says how to proceed."""
        before = self.wording()
        path = self.file("other.txt", "Treaty of Friendship between A and B\n\nPreamble\nWords.\n\nArticle 1\nMore.\n")
        with self.assertRaisesMessage(CommandError, "is not the title of any treaty here"):
            call_command("import_treaty", path)
        self.assertEqual(self.wording(), before)

    def test_a_file_without_a_title_needs_the_treaty_named(self):
        before = self.wording()
        path = self.file("untitled.txt", "Article 1\nThe Parties shall test.\n")
        with self.assertRaisesMessage(CommandError, "does not name its treaty"):
            call_command("import_treaty", path)
        self.assertEqual(self.wording(), before)
        call_command("import_treaty", path, "--treaty", self.treaty.slug, stdout=StringIO())
        self.assertEqual(self.treaty.provisions.get(slug="art-1").text, "The Parties shall test.")

    def test_the_title_or_short_title_names_the_treaty(self):
        for title in (self.treaty.title.upper(), f"  {self.treaty.short_title}  "):
            with self.subTest(title=title):
                path = self.file("titled.txt", f"{title}\n\nArticle 2\nThe Parties shall {len(title)}.\n")
                call_command("import_treaty", path, stdout=StringIO())
                self.assertEqual(self.treaty.provisions.get(slug="art-2").text, f"The Parties shall {len(title)}.")

    def test_a_dry_run_says_where_each_annotation_goes_and_writes_nothing(self):
        from annotations import writes

        article = self.treaty.provisions.get(slug="art-4")
        words = "state of war"
        start = article.text.index(words)
        author = make_user("ana")
        note = writes.create(author=author, target=article, start=start, end=start + len(words), exact=words, body="x")
        before, history = self.wording(), note.history.count()
        path = self.file("dry.txt", f"{self.treaty.title}\n\nArticle 4\nAs amended, in a state of war the Parties assist.\n")
        out = StringIO()
        call_command("import_treaty", path, "--dry-run", stdout=out)
        output = out.getvalue()
        self.assertIn("Article 4: the wording would change; annotations would be placed: 1 anchored.", output)
        self.assertIn(f"annotation {note.pk} on “state of war”: anchored at 17–29", output)
        self.assertIn("Dry run: nothing was written.", output)
        self.assertEqual(self.wording(), before)
        self.assertEqual(note.history.count(), history)

    def test_new_creates_a_treaty_with_its_provisions(self):
        text = (
            "Treaty of Friendship, Cooperation and Mutual Assistance between the USSR and the DPRK\n"
            "Short title: USSR–DPRK Treaty (1961)\nParties: USSR; DPRK\nSigned on: 1961-07-06\nSigned at: Moscow\n\n"
            "Preamble\nThe Parties, desiring peace,\n\nArticle 1\nThe Parties shall assist each other.\n\n"
            "Article 2\nNeither Party shall join an alliance against the other.\n"
        )
        path = self.file("1961.txt", text)
        call_command("import_treaty", path, "--new", "--dry-run", stdout=StringIO())
        self.assertEqual(Treaty.objects.count(), 1)
        out = StringIO()
        call_command("import_treaty", path, "--new", stdout=out)
        treaty = Treaty.objects.get(slug="ussr-dprk-treaty-1961")
        self.assertEqual((treaty.short_title, treaty.parties, str(treaty.signed_on), treaty.signed_at),
                         ("USSR–DPRK Treaty (1961)", "USSR; DPRK", "1961-07-06", "Moscow"))
        self.assertEqual(
            list(treaty.provisions.in_order().values_list("slug", "position", "coverage")),
            [("preamble", 0, "full"), ("art-1", 1, "full"), ("art-2", 2, "full")],
        )
        with self.assertRaisesMessage(CommandError, "is here already"):
            call_command("import_treaty", path, "--new", "--treaty", "another-slug")
        # Its own title now names it: a plain import goes into it, not into the 2024 treaty.
        out = StringIO()
        call_command("import_treaty", path, stdout=out)
        self.assertIn("provisions: 0 created, 0 updated, 3 unchanged", out.getvalue())


class HostileImportTests(TestCase):
    """Issue 14: hostile or broken input ends in a CorpusError or CommandError that names the file,
    the line and the field, and changes nothing."""

    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.treaty = Treaty.objects.get()

    def write(self, name, content):
        directory = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, directory)
        path = directory / name
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
        return path

    def command_cases(self):
        """(arguments to import_source, the words its CommandError must hold)."""
        capture = str(self.write("capture.txt", CAPTURE))
        nul = str(self.write("nul.txt", CAPTURE.replace("A test commentary", "A test\x00commentary")))
        not_utf8 = str(self.write("latin.txt", CAPTURE.encode().replace(b"Follow", b"F\xed\xa0\x80llow")))
        return [
            ([capture, "--url", "javascript:alert(1)//X"],
             "url must be a web address starting with http:// or https://, not “javascript:alert(1)//X”"),
            ([capture, "--title", "x" * 10_000], "title is 10000 characters long; at most 300 are allowed"),
            ([capture, "--author", "A. Wr\x00iter"], "author contains a NUL character (U+0000) at character 6"),
            # A byte of a non-UTF-8 argument reaches Python as a lone surrogate.
            ([capture, "--notes", "caf\udce9"], "notes contains a lone surrogate (U+DCE9"),
            ([capture, "--language", "en-GB-x-" + "a" * 20], "language is 28 characters long; at most 16"),
            ([nul, "--title", "A test commentary"],
             "nul.txt, line 4, column 7: the file contains a NUL character (U+0000); remove it."),
            ([not_utf8], "latin.txt, line 2, column 2: not UTF-8 text (byte 10)"),
            ([capture, "--treaty", "dprk\x00"], "the treaty slug contains a NUL character"),
        ]

    def test_command_names_file_line_and_field(self):
        """Each refused input is a CommandError that says which file, line and field, and why."""
        for arguments, message in self.command_cases():
            with self.subTest(arguments=arguments[1:]), self.assertRaisesMessage(CommandError, message):
                call_command("import_source", *arguments, stdout=StringIO())

    def test_refused_commands_change_nothing(self):
        """No row is written by a refused import."""
        before = row_counts()
        for arguments, _ in self.command_cases():
            with self.subTest(arguments=arguments[1:]):
                try:
                    call_command("import_source", *arguments, stdout=StringIO())
                except CommandError:
                    pass
                self.assertEqual(row_counts(), before)

    def test_same_author_date_and_title_get_two_slugs(self):
        """Two captures by one author, on one day, under one title are two sources, with two slugs."""
        facts = {"treaty": self.treaty, "title": "On the treaty", "author": "A. Writer",
                 "published_on": datetime.date(2024, 7, 1)}
        first, _ = import_source(CAPTURE, capture_name="one.txt", **facts)
        second, _ = import_source(CAPTURE + "\nA different ending.\n", capture_name="two.txt", **facts)
        self.assertEqual([first.slug, second.slug], ["a-writer-2024-07-01-on-the-treaty",
                                                     "a-writer-2024-07-01-on-the-treaty-2"])

    def test_a_taken_slug_is_refused(self):
        """A slug given explicitly that another source has is a CorpusError, not an IntegrityError."""
        taken = Source.objects.first().slug
        with self.assertRaisesMessage(CorpusError, f"new.txt: the slug {taken!r} belongs to another source"):
            import_source(CAPTURE, capture_name="new.txt", treaty=self.treaty, slug=taken)

    def test_nul_in_a_capture_string_is_refused(self):
        """A capture handed to import_source with a NUL (SQLite's length() stops at it) is a CorpusError."""
        with self.assertRaisesMessage(CorpusError, "the capture test.txt contains a NUL character (U+0000) at line 6, column 15"):
            import_source(CAPTURE.replace("Article 4", "Article\x004"), capture_name="test.txt", treaty=self.treaty)

    def test_read_capture_names_line_and_column(self):
        """read_capture counts lines and columns from 1, in characters, for a NUL after a non-ASCII letter."""
        path = self.write("capture.txt", "First line\nçà\x00\n")
        with self.assertRaisesMessage(CorpusError, f"{path}, line 2, column 3: the file contains a NUL character"):
            read_capture(path)

    def test_read_capture_keeps_universal_newlines(self):
        """Windows and old Mac line ends are read as \\n, as reading the file as text did."""
        self.assertEqual(read_capture(self.write("crlf.txt", b"one\r\ntwo\rthree\n")), "one\ntwo\nthree\n")

    def test_import_treaty_refuses_nul_wording(self):
        """import_treaty on a file with a NUL in a provision's wording is a CommandError naming line and column."""
        path = self.write("official.txt", OFFICIAL.replace("shall test.", "shall\x00test."))
        with self.assertRaisesMessage(CommandError, "official.txt, line 10, column 18: the file contains a NUL"):
            call_command("import_treaty", str(path), stdout=StringIO())

    def test_refused_import_treaty_changes_no_wording(self):
        """The refused import_treaty leaves every provision's wording as it was."""
        before = list(Provision.objects.values_list("text", "text_version"))
        with self.assertRaises(CommandError):
            call_command("import_treaty", str(self.write("official.txt", OFFICIAL.replace("test", "te\x00st"))),
                         stdout=StringIO())
        self.assertEqual(list(Provision.objects.values_list("text", "text_version")), before)


class FuzzFoundImportTests(TestCase):
    """Found by tests/test_fuzz.py: files and invocations of import_treaty that it took, or crashed on."""

    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.treaty = Treaty.objects.get()

    def write(self, content):
        directory = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, directory)
        path = directory / "official.txt"
        path.write_text(content)
        return path

    def test_an_article_number_no_provision_can_hold_is_refused(self):
        """“Article 99999”, “Article 0” and an article number of 5,000 digits each stop the import with the
        line and the bounds; nothing changes. They were read as wording of the article before them."""
        before = list(Provision.objects.values_list("text", "text_version"))
        cases = {"99999": "must be at most 32767, not 99999", "0": "must be at least 1, not 0",
                 "9" * 5000: "is too large a number"}
        for number, message in cases.items():
            path = self.write(f"{OFFICIAL}\nArticle {number}\nThe words of an article Glossa cannot number.\n")
            line = OFFICIAL.count("\n") + 2
            with self.subTest(number=number[:10]), self.assertRaisesMessage(
                    CommandError, f"{path} was not imported (nothing was changed): line {line}: the article number {message}"):
                call_command("import_treaty", str(path), "--treaty", self.treaty.slug, stdout=StringIO())
        self.assertEqual(list(Provision.objects.values_list("text", "text_version")), before)

    def test_a_treaty_slug_no_treaty_can_have_is_refused(self):
        """--treaty with a lone surrogate (a byte of a non-UTF-8 argument), a NUL or 51 characters is a
        CommandError naming the slug's fault; the surrogate was a UnicodeEncodeError, the NUL one on PostgreSQL."""
        path = self.write(OFFICIAL)
        cases = {"dprk\udce9": "the treaty slug contains a lone surrogate (U+DCE9",
                 "dprk\x00": "the treaty slug contains a NUL character",
                 "t" * 51: "the treaty slug is 51 characters long; at most 50 are allowed"}
        for slug, message in cases.items():
            with self.subTest(slug=slug), self.assertRaisesMessage(CommandError, f"{path} was not imported"):
                try:
                    call_command("import_treaty", str(path), "--treaty", slug, stdout=StringIO())
                except CommandError as error:
                    self.assertIn(message, str(error))
                    raise

    def test_new_refuses_a_slug_no_treaty_can_have(self):
        """--new with a slug that is not a slug (spaces, Cyrillic, a path, a NUL, 51 characters), given with
        --treaty or a Slug: line, is a CommandError; the treaty was created with it, or the database refused it."""
        text = OFFICIAL.replace("Treaty on Comprehensive Strategic Partnership (test rendering)", "Treaty of Fuzz")
        cases = {"Not a slug": "the slug 'Not a slug' cannot name a treaty", "договор": "cannot name a treaty",
                 "../x": "cannot name a treaty", "t" * 51: "the treaty slug is 51 characters long",
                 "fuzz\x00": "the treaty slug contains a NUL character"}
        for slug, message in cases.items():
            ways = [(["--treaty", slug], text)]
            if "\x00" not in slug:  # a NUL in the file is refused as such
                ways.append(([], text.replace("Fuzz\n", f"Fuzz\nSlug: {slug}\n", 1)))
            for arguments, content in ways:
                with self.subTest(slug=slug, header=not arguments), self.assertRaisesMessage(CommandError, message):
                    call_command("import_treaty", str(self.write(content)), "--new", *arguments, stdout=StringIO())
        self.assertEqual(Treaty.objects.count(), 1)
