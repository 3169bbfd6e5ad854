"""Structured analysis in a real browser (issue 15): a curator's assessment scheme, two analysts who
assess the same clause, the curator's publication, the public consensus view; and the compare view of
the 2024 treaty beside a second imported treaty.

The browser, the skip rule and the error collector (any JavaScript, console/CSP or unexpected HTTP error
fails the test) are in base.py.
"""

from .base import SELECT_RANGE, BrowserTestCase, expect  # first: the skip rule

import datetime  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
from io import StringIO  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.urls import reverse  # noqa: E402

from annotations.models import Annotation, AssessmentField  # noqa: E402
from treaty_app.importing import load_corpus  # noqa: E402
from treaty_app.models import CrossReference, Provision, Treaty  # noqa: E402

from ..factories import link, make_annotation, make_excerpt, make_provision, make_source, make_treaty, make_user  # noqa: E402

pytestmark = pytest.mark.browser

TEXT = (
    "In the event that one of the Parties is subjected to an armed attack by an individual country or several "
    "countries and thus finds itself in a state of war, the other Party shall immediately provide military and "
    "other assistance with all means in its possession."
)
CLAUSE = "the other Party shall immediately provide military and other assistance"
COMMENTARY = (
    "Article 4 does not oblige Russia to intervene automatically: the assistance is to be given in accordance "
    "with Article 51 of the UN Charter and the laws of the two countries."
)
OLD_TREATY = """Treaty of Friendship, Co-operation and Mutual Assistance between the Union of Soviet Socialist Republics and the Democratic People's Republic of Korea
Short title: USSR–DPRK Treaty (1961)
Slug: ussr-dprk-1961
Signed on: 1961-07-06
Signed at: Moscow

Preamble
The Union of Soviet Socialist Republics and the Democratic People's Republic of Korea have decided to conclude the present Treaty.

Article 1
Should either of the Contracting Parties suffer armed attack by any State or coalition of States and thus find itself in a state of war, the other Contracting Party shall immediately extend military and other assistance with all the means at its disposal.
"""


class ConsensusTests(BrowserTestCase):
    def setUp(self):
        super().setUp()
        self.treaty = make_treaty(slug="t", short_title="Partnership Treaty")
        self.provision = make_provision(self.treaty, number=4, text=TEXT)
        self.ana, self.ben = make_user("ana"), make_user("ben")
        self.curator = make_user("cora", role="Curators", is_staff=True)
        source = make_source(body=COMMENTARY, title="No automatic intervention", published_on=datetime.date(2024, 6, 21))
        self.excerpt = make_excerpt(source, 0, len(COMMENTARY))
        self.link = link(self.excerpt, self.provision)
        self.workspace_url = reverse("annotations:workspace", args=["t", "art-4"])

    def curator_page(self):
        page = self.new_page()
        self.log_in(self.curator, page)
        return page

    def define_scheme(self, page):
        """The curator adds a field of two values in the admin."""
        page.goto(reverse("admin:annotations_assessmentfield_add"))
        page.get_by_label("Label:").press_sequentially("Automaticity")  # typed: the slug follows keystrokes
        expect(page.get_by_label("Slug:")).to_have_value("automaticity")  # prepopulated from the label
        page.get_by_label("Kind:").select_option(label="One of a list")
        page.get_by_label("Position:").fill("9")
        for row, (slug, label) in enumerate([("automatic", "Automatic intervention"),
                                             ("conditional", "Conditional, no automatic intervention")]):
            page.locator(".inline-group .add-row a").click()  # no empty rows until asked for
            page.locator(f"input[name='values-{row}-position']").fill(str(row))
            page.locator(f"input[name='values-{row}-slug']").fill(slug)
            page.locator(f"input[name='values-{row}-label']").fill(label)
        with page.expect_navigation():
            page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("ul.messagelist li.success")).to_contain_text("Automaticity")

    def set_stance(self, page):
        """The curator marks the excerpt link as disputing, in the links' list."""
        page.goto(reverse("admin:treaty_app_excerptlink_changelist"))
        page.locator("select[name='form-0-stance']").select_option(label="Disputes")
        with page.expect_navigation():
            page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("ul.messagelist li.success")).to_be_visible()

    def assess(self, user, note, automaticity):
        """The analyst selects the clause, writes a note, assesses it and submits it for publication."""
        page = self.new_page()
        self.log_in(user, page)
        page.goto(self.workspace_url)
        page.wait_for_load_state("load")
        page.evaluate(SELECT_RANGE, ["#wording", CLAUSE])
        page.keyboard.press("a")  # the shortcut: annotate the selection
        form = page.locator("#annotation-form")
        expect(form.locator("[name=exact]")).to_have_value(CLAUSE)
        form.locator("[name=body]").fill(note)
        form.locator("details.assessment-fields > summary").click()  # folded away: it is optional
        form.get_by_label("Strength").select_option(label="Binding")
        form.get_by_label("Automaticity").select_option(label=automaticity)
        form.get_by_role("button", name="Save annotation").click()
        card = page.locator("ol.cards li.card-new")
        expect(card).to_be_visible()
        expect(card.locator("dl.assessment")).to_contain_text(automaticity)
        card.get_by_role("button", name="Submit for publication").click()
        expect(page.locator("ol.cards li", has_text=note)).to_contain_text("Awaiting review")
        page.close()

    def publish_all(self, page):
        page.goto(reverse("admin:annotations_annotation_changelist"))
        page.locator("#action-toggle").check()
        page.locator("#changelist-form select[name=action]").select_option(label="Publish selected annotations")
        with page.expect_navigation():
            page.locator("#changelist-form .actions").get_by_role("button", name=re.compile("^(Run|Go)$")).click()
        expect(page.locator("ul.messagelist li").first).to_contain_text("2")

    def test_two_analysts_assess_a_clause_and_the_public_sees_them_side_by_side(self):
        curator = self.curator_page()
        self.define_scheme(curator)
        self.set_stance(curator)
        self.assess(self.ana, "Shall immediately: a binding promise of help.", "Automatic intervention")
        self.assess(self.ben, "Binding, but only as the Charter allows.", "Conditional, no automatic intervention")
        self.assertEqual(Annotation.objects.filter(review=Annotation.Review.SUBMITTED).count(), 2)
        self.publish_all(curator)

        page = self.page  # a visitor, not logged in
        page.goto(self.provision.get_absolute_url())
        page.get_by_role("link", name="Consensus and dissent on Article 4").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Consensus and dissent: Article 4")
        summary = page.locator("ul.consensus-summary")
        expect(summary.locator("li.agreed", has_text="Strength")).to_contain_text("all 2 say Binding.")
        expect(summary.locator("li.split", has_text="Automaticity")).to_contain_text(
            "1 of 2 say Automatic intervention; 1 says Conditional, no automatic intervention.")

        analysts = page.locator("section", has=page.get_by_role("heading", name="The analysts, by what they conclude"))
        automatic = analysts.locator("article.conclusion", has_text="Automaticity: Automatic intervention")
        conditional = analysts.locator("article.conclusion", has_text="Automaticity: Conditional")
        expect(automatic).to_contain_text("ana,")
        expect(automatic).not_to_contain_text("ben,")
        expect(conditional).to_contain_text("ben,")
        expect(conditional.get_by_role("link", name=re.compile(re.escape(CLAUSE)))).to_be_visible()

        commentary = page.locator("section", has=page.get_by_role("heading", name="The commentary, by its stance"))
        disputes = commentary.locator("article.stance", has=page.get_by_role("heading", name=re.compile("^Disputes")))
        expect(disputes).to_contain_text("does not oblige Russia to intervene automatically")
        expect(disputes.get_by_role("link", name="No automatic intervention")).to_be_visible()
        expect(disputes.locator("time")).to_have_attribute("datetime", "2024-06-21")

        # The two columns stand side by side on a wide screen.
        left, right = analysts.bounding_box(), commentary.bounding_box()
        self.assertLess(left["x"] + left["width"], right["x"] + 1)
        self.assertLess(abs(left["y"] - right["y"]), 5)

        agreement = page.locator("table.agreement")
        expect(agreement.locator("tr", has_text="Automaticity").locator("td").last).to_have_text("0 % of 1")
        expect(agreement.locator("tr", has_text="Strength").locator("td")).to_have_text(
            ["1", "— (no variation)", "100 % of 1"])
        self.assertEqual(AssessmentField.objects.get(slug="automaticity").values.count(), 2)


class CompareTests(BrowserTestCase):
    def setUp(self):
        super().setUp()
        load_corpus()
        self.new_treaty = Treaty.objects.get()
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "ussr-dprk-1961.txt"
            path.write_text(OLD_TREATY, encoding="utf-8")
            call_command("import_treaty", str(path), "--new", stdout=StringIO())
        self.old = Provision.objects.get(treaty__slug="ussr-dprk-1961", slug="art-1")
        self.article_4 = self.new_treaty.provisions.get(slug="art-4")
        self.curator = make_user("cora", role="Curators", is_staff=True)
        start = self.old.text.index("shall immediately extend")
        make_annotation(self.old, make_user("ana"), start, start + len("shall immediately extend"),
                        body="The 1961 promise.", visibility=Annotation.Visibility.PUBLIC,
                        review=Annotation.Review.PUBLISHED)

    def choose(self, page, field, search, option):
        """Pick `option` in the admin's autocomplete for `field`, after typing `search`."""
        page.locator(f".field-{field} .select2-selection").click()
        page.locator(".select2-container--open .select2-search__field").fill(search)
        page.locator(".select2-results__option", has_text=re.compile(f"^{re.escape(option)}$")).click()

    def test_the_2024_treaty_beside_the_imported_1961_treaty(self):
        curator = self.new_page()
        self.log_in(self.curator, curator)
        curator.goto(reverse("admin:treaty_app_crossreference_add"))
        # With two treaties the autocomplete names each provision's treaty.
        self.choose(curator, "provision", "Article 4", "Article 4, DPRK–Russia Treaty (2024)")
        self.choose(curator, "target", "immediately extend", "Article 1, USSR–DPRK Treaty (1961)")  # by its words
        curator.get_by_label("Note:").fill("The 1961 mutual-assistance clause it echoes.")
        with curator.expect_navigation():
            curator.get_by_role("button", name="Save", exact=True).click()
        expect(curator.locator("ul.messagelist li.success")).to_be_visible()
        reference = CrossReference.objects.get(target=self.old)  # the corpus has its own references
        self.assertEqual((reference.provision, reference.target), (self.article_4, self.old))

        page = self.page
        page.goto(self.new_treaty.get_absolute_url())
        related = page.locator("section", has=page.get_by_role("heading", name="Related instruments"))
        expect(related.get_by_role("link", name="USSR–DPRK Treaty (1961)")).to_be_visible()
        related.get_by_role("link", name="Article 4 beside Article 1").click()
        expect(page).to_have_url(self.live_server_url + reverse(
            "reader:compare", args=[self.new_treaty.slug, "art-4", "ussr-dprk-1961", "art-1"]))
        expect(page.get_by_role("heading", level=1)).to_contain_text("beside")
        expect(page.locator("p.reference-note")).to_have_text("The 1961 mutual-assistance clause it echoes.")
        sides = page.locator("section.compare-side")
        expect(sides).to_have_count(2)
        expect(sides.nth(0)).to_contain_text(self.article_4.text.split()[0])
        expect(sides.nth(0).locator("h3", has_text="Commentary")).not_to_have_text("Commentary (0)")
        expect(sides.nth(1)).to_contain_text("shall immediately extend military and other assistance")
        expect(sides.nth(1)).to_contain_text("The 1961 promise. (ana)")
        first, second = sides.nth(0).bounding_box(), sides.nth(1).bounding_box()
        self.assertLess(first["x"] + first["width"], second["x"] + 1)
