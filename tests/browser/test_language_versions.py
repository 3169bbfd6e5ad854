"""Language versions in a real browser: aligned by paragraph beside the wording on a wide screen, one
column at a time on a phone (no JavaScript needed), and annotated by selecting Russian words.

The browser, the skip rule and the error collector are in base.py.
"""

from .base import SELECT_RANGE, BrowserTestCase, expect  # first: the skip rule

import pytest  # noqa: E402
from django.urls import reverse  # noqa: E402

from annotations.models import Annotation  # noqa: E402
from treaty_app.models import LanguageVersion  # noqa: E402

from ..factories import make_provision, make_treaty, make_user  # noqa: E402

pytestmark = pytest.mark.browser

ENGLISH = (
    "In the event that one of the Parties is subjected to an armed attack and thus finds itself in a state of war, "
    "the other Party shall immediately provide military and other assistance with all means in its possession.\n\n"
    "This shall be done in accordance with Article 51 of the UN Charter."
)
RUSSIAN = (
    "В случае если одна из Сторон подвергнется вооружённому нападению и окажется таким образом в состоянии войны, "
    "другая Сторона незамедлительно окажет военную и иную помощь всеми имеющимися в её распоряжении средствами.\n\n"
    "Это делается в соответствии со статьёй 51 Устава ООН."
)
WAR = "в состоянии войны"


class LanguageVersionCase(BrowserTestCase):
    def setUp(self):
        super().setUp()
        treaty = make_treaty(slug="t", short_title="Partnership Treaty")
        self.provision = make_provision(treaty, number=4, text=ENGLISH, coverage="full")
        self.version = LanguageVersion.objects.create(provision=self.provision, language="ru", text=RUSSIAN,
                                                      source="Kremlin text")

    def paragraph_tops(self, page, element_id):
        return page.locator(f"#{element_id} > p").evaluate_all("(ps) => ps.map((p) => p.getBoundingClientRect().top)")


class LanguageVersionPageTests(LanguageVersionCase):
    def test_paragraphs_stand_aligned_side_by_side(self):
        page = self.page
        page.goto(self.provision.get_absolute_url())
        english, russian = self.paragraph_tops(page, "wording"), self.paragraph_tops(page, "wording-ru")
        self.assertEqual(len(english), 2)
        self.assertEqual(english, russian)  # paragraph n of each in the same row
        en_box = page.locator("#wording > p").first.bounding_box()
        ru_box = page.locator("#wording-ru > p").first.bounding_box()
        self.assertLess(en_box["x"] + en_box["width"], ru_box["x"])
        self.assertEqual(page.evaluate("document.getElementById('wording').textContent"), ENGLISH)
        self.assertEqual(page.evaluate("document.getElementById('wording-ru').textContent"), RUSSIAN)
        expect(page.locator(".version-switch")).to_be_hidden()

    def test_a_phone_shows_one_version_at_a_time_with_the_switch(self):
        page = self.new_page(viewport={"width": 390, "height": 800}, java_script_enabled=False)
        page.goto(self.provision.get_absolute_url())
        switch = page.locator(".version-switch")
        expect(switch).to_be_visible()
        expect(page.locator("#wording > p").first).to_be_visible()
        expect(page.locator("#wording-ru > p").first).to_be_visible()  # "All": one after the other
        switch.get_by_label("Russian").check()
        expect(page.locator("#wording-ru > p").first).to_be_visible()
        expect(page.locator("#wording > p").first).to_be_hidden()
        switch.get_by_label("English").check()
        expect(page.locator("#wording-ru > p").first).to_be_hidden()
        self.assertEqual(page.evaluate("document.documentElement.scrollWidth"), 390)


class LanguageVersionWorkspaceTests(LanguageVersionCase):
    def test_selecting_russian_words_annotates_the_russian_version(self):
        self.log_in(make_user("ana"))
        page = self.page
        page.goto(reverse("annotations:workspace", args=["t", "art-4"]))
        page.wait_for_load_state("load")
        page.evaluate(SELECT_RANGE, ["#wording-ru", WAR])
        page.keyboard.press("a")
        form = page.locator("#annotation-form")
        expect(form.locator("[name=exact]")).to_have_value(WAR)
        form.locator("[name=body]").fill("Война: the Russian text's word.")
        form.get_by_role("button", name="Save annotation").click()
        expect(page.locator("ol.cards li.card-new")).to_be_visible()
        annotation = Annotation.objects.get()
        self.assertEqual((annotation.language_version, annotation.exact), (self.version, WAR))
        start = RUSSIAN.index(WAR)
        self.assertEqual((annotation.start, annotation.end), (start, start + len(WAR)))
        expect(page.locator(f"#wording-ru mark.hl#hl-{annotation.pk}")).to_have_text(WAR)
        expect(page.locator(f"#wording mark.hl#hl-{annotation.pk}")).to_have_count(0)

    def test_a_translation_discrepancy_pairs_russian_and_english_words(self):
        """Select Russian words and save; select the English words, give the Russian note's number and
        save: the new card shows the Russian wording, and the Russian card the English, without a reload."""
        self.log_in(make_user("ana"))
        page = self.page
        page.goto(reverse("annotations:workspace", args=["t", "art-4"]))
        page.wait_for_load_state("load")
        form = page.locator("#annotation-form")
        page.evaluate(SELECT_RANGE, ["#wording-ru", WAR])
        page.keyboard.press("a")
        form.locator("[name=body]").fill("The Russian says a state of war exists.")
        form.get_by_role("button", name="Save annotation").click()
        expect(page.locator("ol.cards li.card-new")).to_be_visible()
        # The fresh form is swapped in after the card: selecting again before htmx settles opened the old
        # form, which the swap then replaced with a closed one (a flaky failure, 1 run in 4).
        page.wait_for_function("!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
        russian = Annotation.objects.get()
        page.evaluate(SELECT_RANGE, ["#wording", "state of war"])
        page.keyboard.press("a")
        expect(form.locator("[name=exact]")).to_have_value("state of war")
        form.get_by_label("Translation discrepancy with annotation no.").fill(str(russian.pk))
        form.locator("[name=body]").fill("The English is looser.")
        form.get_by_role("button", name="Save annotation").click()
        english = page.locator("ol.cards li.card-new", has_text="The English is looser.")
        expect(english).to_contain_text(f"“{WAR}” in the Russian text (ru), note {russian.pk}")
        paired = Annotation.objects.get(body="The English is looser.")
        self.assertEqual((paired.counterpart, paired.language_version), (russian, None))
        # The Russian card was sent again out of band: it names the English words with no reload.
        expect(page.locator(f"#annotation-{russian.pk} .pairs")).to_contain_text(
            f"“state of war” in the provision’s own wording, note {paired.pk}")
        expect(page.locator(f"#annotation-{russian.pk}")).to_have_count(1)
        self.assertEqual(self.axe_violations(), [])
