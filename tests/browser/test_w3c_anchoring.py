"""An outside W3C client anchors every selector Glossa exports, in Glossa's own pages.

The client is Apache Annotator's DOM matchers (@apache-annotator/dom, a devDependency in package.json that
`npm ci` installs; esbuild bundles it for the page and the browser gets it as an init script, so no page's
CSP is loosened). For each kind of page (the public page of a full-text and of a quoted provision, the
workspace, a commentary source's page) the test reads the JSON-LD a client would, and for every annotation
runs its TextQuoteSelector and its TextPositionSelector in the element its target's source names
(``…/#wording``, ``/sources/<slug>/#excerpt-N``). Each must find exactly the annotation's words, at the place
Glossa highlights them: the span of the page's <mark> runs for that annotation or, on a source page, which
draws no annotation highlights, the stored offsets converted to UTF-16 here in Python. The wordings hold
emoji flags, Cyrillic and Korean, so code points and UTF-16 units differ before most of the words.

Apache Annotator 0.2.0 counts TextPositionSelector offsets in code points, as the W3C model says (its
matcher seeks with a CodePointSeeker over the UTF-16 text); the figures are printed per page kind.

Without node_modules the module is skipped, or fails under GLOSSA_REQUIRE_BROWSER=1 (CI), as base.py does
for the browser itself.
"""

from .base import BrowserTestCase  # first: the skip rule for the browser

import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import pytest  # noqa: E402
from django.urls import reverse  # noqa: E402

from annotations.anchoring import quote_selector  # noqa: E402
from annotations.models import Annotation  # noqa: E402
from treaty_app.models import Provision, QuotedPassage  # noqa: E402

from ..factories import (  # noqa: E402
    link, make_annotation, make_excerpt, make_provision, make_source, make_treaty, make_user,
)
from ..pagetext import WORDING, WORDING_SPANS  # noqa: E402

pytestmark = pytest.mark.browser

PROJECT = Path(__file__).resolve().parents[2]
NODE_MODULES = PROJECT / "node_modules"
ESBUILD = NODE_MODULES / ".bin" / "esbuild"
CLIENT_ENTRY = Path(__file__).with_name("w3c_client.js")


def _client_missing():
    for needed in [NODE_MODULES / "@apache-annotator" / "dom" / "package.json", ESBUILD]:
        if not needed.exists():
            return f"{needed.relative_to(PROJECT)} is missing (npm ci)"
    return None


if (_missing := _client_missing()) is not None:
    if os.environ.get("GLOSSA_REQUIRE_BROWSER") == "1":
        pytest.fail(f"GLOSSA_REQUIRE_BROWSER=1 but the W3C client cannot run: {_missing}.", pytrace=False)
    pytest.skip(f"W3C anchoring tests skipped: {_missing}", allow_module_level=True)

# Two passages as a commentary quotes them (the quoted provision's wording), then a paragraph of its own
# that becomes an excerpt on the full-text provision.
PASSAGES = [
    "«Статья 4 🇰🇵: 어느 한 당사자가 무력침공을 받아 전쟁상태에 처하는 경우, "
    "다른 당사자는 지체없이 군사적 및 기타 원조를 제공한다.»",
    "🇷🇺 In Russian: «В случае если одна из Сторон подвергнется вооружённому нападению 👊 "
    "и окажется в состоянии войны, другая Сторона незамедлительно окажет военную помощь.»",
]
COMMENT = "Commentators read Article 90 🇰🇵🇷🇺 as a promise of help, «помощь» or 원조: not an alliance 🤝."
QUOTED_SPANS = [
    "🇰🇵: 어느", "경우, 다른", "원조를 제공한다.»\n\n🇷🇺 In Russian", "нападению 👊", "военную помощь.»",
]
EXCERPT_SPANS = ["🇰🇵🇷🇺", "«помощь» or 원조", "alliance 🤝."]
# Team-visible only: in the workspace's JSON-LD (signed in), not the public one. It overlaps a public one.
TEAM_SPAN = "shall consult 👍 without"

# Runs each selector with Apache Annotator in the element `id`, and reports what it found and where
# Glossa's <mark> runs for the annotation are, as UTF-16 offsets in the element's text.
ANCHOR = """async ([id, selectors, pk]) => {
  const client = window.ApacheAnnotator;
  const root = document.getElementById(id);
  if (!root) throw new Error("no element #" + id);
  const offset = (node, at) => {
    const range = document.createRange();
    range.setStart(root, 0);
    range.setEnd(node, at);
    return range.toString().length;
  };
  const found = {};
  for (const selector of selectors) {
    const matcher = selector.type === "TextQuoteSelector"
      ? client.createTextQuoteSelectorMatcher(selector) : client.createTextPositionSelectorMatcher(selector);
    found[selector.type] = [];
    for await (const range of matcher(root)) {
      found[selector.type].push({
        text: range.toString(),
        start: offset(range.startContainer, range.startOffset),
        end: offset(range.endContainer, range.endOffset),
      });
    }
  }
  const marks = Array.from(root.querySelectorAll("mark.hl"))
    .filter((mark) => (mark.dataset.annotations || "").split(" ").includes(String(pk)));
  const last = marks[marks.length - 1];
  return {
    text: root.textContent,
    found: found,
    highlight: marks.length ? [offset(marks[0], 0), offset(last, last.childNodes.length)] : null,
  };
}"""


def utf16(text, index):
    """The UTF-16 offset of code point `index` of `text`."""
    return len(text[:index].encode("utf-16-le")) // 2


class W3CAnchoringTests(BrowserTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        folder = tempfile.TemporaryDirectory()
        cls.addClassCleanup(folder.cleanup)
        cls.client_script = Path(folder.name) / "apache-annotator.js"
        subprocess.run(
            [ESBUILD, CLIENT_ENTRY, "--bundle", "--format=iife",
             f"--outfile={cls.client_script}", "--log-level=warning"],
            cwd=PROJECT, check=True, timeout=120,
        )

    def setUp(self):
        super().setUp()
        self.treaty = make_treaty(slug="t")
        self.analyst = make_user("ana")
        self.full = make_provision(self.treaty, number=90, text=WORDING, coverage=Provision.Coverage.FULL)
        self.source = make_source("\n\n".join([*PASSAGES, COMMENT]), author="Ким Мин-су")
        self.quoted = make_provision(self.treaty, number=91, text="\n\n".join(PASSAGES))
        for position, passage in enumerate(PASSAGES):
            start = self.source.body.index(passage)
            QuotedPassage.objects.create(
                provision=self.quoted, source=self.source, position=position, text=passage,
                source_start=start, source_end=start + len(passage),
            )
        start = self.source.body.index(COMMENT)
        self.excerpt = make_excerpt(self.source, start, start + len(COMMENT))
        link(self.excerpt, self.full)

        published = {"visibility": Annotation.Visibility.PUBLIC, "review": Annotation.Review.PUBLISHED}
        for provision, spans in [(self.full, WORDING_SPANS), (self.quoted, QUOTED_SPANS)]:
            for words in spans:
                start = provision.text.index(words)
                make_annotation(provision, self.analyst, start, start + len(words), body=words, **published)
        start = WORDING.index(TEAM_SPAN)
        make_annotation(
            self.full, self.analyst, start, start + len(TEAM_SPAN), body=TEAM_SPAN, visibility="team"
        )
        for words in EXCERPT_SPANS:
            start = COMMENT.index(words)
            quote = quote_selector(COMMENT, start, start + len(words))
            Annotation.objects.create(
                excerpt=self.excerpt, author=self.analyst, body=words, start=start, end=start + len(words),
                exact=quote.exact, prefix=quote.prefix, suffix=quote.suffix, **published,
            )

    def open(self, url, *, signed_in=False):
        page = self.page
        if signed_in:
            self.log_in(self.analyst, page)
        page.context.add_init_script(path=self.client_script)
        page.goto(url)
        loaded = "typeof window.ApacheAnnotator.createTextQuoteSelectorMatcher === 'function'"
        self.assertTrue(page.evaluate(loaded), "the W3C client is not in the page")
        return page

    def targets(self, page, document_url, page_path):
        """(annotation pk, fragment, selectors) of every annotation with selectors in the JSON-LD at
        `document_url` whose target's source is on the page at `page_path`, as the page's session reads it."""
        response = page.request.get(document_url)
        self.assertEqual(response.status, 200, document_url)
        document = response.json()
        if document.get("type") == "AnnotationCollection":
            document = document["first"]
        found = []
        for item in document["items"]:
            target = item["target"]
            if isinstance(target, str):  # a reply: its target is the annotation it replies to
                continue
            source = urlsplit(target["source"])
            if source.path == page_path:
                pk = int(item["id"].rsplit("#annotation-", 1)[1])
                found.append((pk, source.fragment, target["selector"]))
        return found

    def anchor_all(self, kind, page, targets, texts, *, highlighted=True):
        """Anchor every target on `page` and check each selector's one match against the stored offsets
        (UTF-16 here) and, where the page highlights annotations, against its <mark> runs."""
        problems, counts, differs = [], {"TextQuoteSelector": 0, "TextPositionSelector": 0}, False
        for pk, fragment, selectors in targets:
            annotation = Annotation.objects.get(pk=pk)
            stored = texts[fragment]
            by_type = {selector["type"]: selector for selector in selectors}
            self.assertEqual(set(by_type), set(counts), pk)
            position = by_type["TextPositionSelector"]
            self.assertEqual((position["start"], position["end"]), (annotation.start, annotation.end))
            self.assertEqual(stored[annotation.start : annotation.end], by_type["TextQuoteSelector"]["exact"])
            expected = [utf16(stored, annotation.start), utf16(stored, annotation.end)]
            differs |= expected != [annotation.start, annotation.end]
            result = page.evaluate(ANCHOR, [fragment, selectors, pk])
            if result["text"] != stored:
                problems.append((pk, fragment, "element text is not the stored text", result["text"]))
                continue
            if highlighted and result["highlight"] != expected:
                problems.append((pk, "Glossa's highlight", result["highlight"], "expected", expected))
            for kind_of_selector, matches in result["found"].items():
                wanted = [{"text": annotation.exact, "start": expected[0], "end": expected[1]}]
                if matches == wanted:
                    counts[kind_of_selector] += 1
                else:
                    problems.append((pk, kind_of_selector, matches, "expected", wanted))
        print(f"\nW3C anchoring with Apache Annotator, {kind}: "
              + ", ".join(f"{name} {n}/{len(targets)}" for name, n in counts.items()))
        self.assertTrue(differs, "no span where code points and UTF-16 units differ: nothing would be proved")
        self.assertEqual(problems, [])
        return counts

    def test_public_page_of_a_full_text_provision(self):
        """Every published annotation's selectors anchor in #wording of the full-text provision's page."""
        path = self.full.get_absolute_url()
        page = self.open(path)
        targets = self.targets(page, reverse("reader:provision-annotations", args=["t", "art-90"]), path)
        self.assertEqual(len(targets), len(WORDING_SPANS))
        self.assertEqual({fragment for _, fragment, _ in targets}, {"wording"})
        self.anchor_all("public page, full text", page, targets, {"wording": WORDING})

    def test_public_page_of_a_quoted_provision(self):
        """Likewise for a quoted provision, across its passages; the attributions are outside #wording."""
        path = self.quoted.get_absolute_url()
        page = self.open(path)
        targets = self.targets(page, reverse("reader:provision-annotations", args=["t", "art-91"]), path)
        self.assertEqual(len(targets), len(QUOTED_SPANS))
        self.anchor_all("public page, quoted", page, targets, {"wording": self.quoted.text})
        attributions = page.locator("ol.attributions li")
        attribution = f"Quoted by Ким Мин-су in {self.source.display_title} ↑"
        self.assertEqual(attributions.all_inner_texts(), [attribution] * 2)

    def test_workspace(self):
        """In the workspace, signed in: the provision's annotations (a team one too) in #wording, and the
        excerpt's in #excerpt-N, each where the workspace highlights it."""
        path = reverse("annotations:workspace", args=["t", "art-90"])
        page = self.open(path, signed_in=True)
        on_wording = self.targets(
            page, reverse("reader:provision-annotations", args=["t", "art-90"]), self.full.get_absolute_url()
        )
        self.assertEqual(len(on_wording), len(WORDING_SPANS) + 1)  # the team one: the session sees it
        # The provision's JSON-LD holds only what is anchored in its wording; excerpt annotations are in the
        # whole collection.
        on_excerpt = self.targets(
            page, reverse("reader:annotations-export") + "?page=1", self.source.get_absolute_url()
        )
        self.assertEqual({fragment for _, fragment, _ in on_excerpt}, {f"excerpt-{self.excerpt.pk}"})
        self.assertEqual(len(on_excerpt), len(EXCERPT_SPANS))
        self.anchor_all(
            "workspace", page, on_wording + on_excerpt,
            {"wording": WORDING, f"excerpt-{self.excerpt.pk}": COMMENT},
        )

    def test_source_page(self):
        """On the commentary source's page, excerpt annotations anchor in #excerpt-N, the excerpt's mark."""
        path = self.source.get_absolute_url()
        page = self.open(path)
        targets = self.targets(page, reverse("reader:annotations-export") + "?page=1", path)
        self.assertEqual(len(targets), len(EXCERPT_SPANS))
        # The source page draws no annotation highlights: the place is the stored offsets'.
        self.anchor_all(
            "source page", page, targets, {f"excerpt-{self.excerpt.pk}": COMMENT}, highlighted=False
        )
