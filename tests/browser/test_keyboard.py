"""The workspace with the keyboard alone, as a screen-reader or keyboard user works in it.

Log in, select words, annotate, tag, save, edit and delete without the mouse: after each step the test
asserts where focus is, what the live region said, and that axe-core finds no WCAG 2.2 AA violation in the
state the page is in. The browser, the skip rule, axe-core and the error collector are in base.py.
"""

from .base import expect  # first: the skip rule

import re  # noqa: E402

import pytest  # noqa: E402

from annotations.models import Annotation  # noqa: E402

from ..factories import make_annotation  # noqa: E402
from .test_workspace import QUOTE, TEXT, WorkspaceTestCase  # noqa: E402

pytestmark = pytest.mark.browser

# Words as the keyboard caret counts them (workspace.js: letters, digits, marks, apostrophes, hyphens).
WORDS = re.compile(r"[\w'’-]+")

# The focused element, named as a test can compare it: "tag#id.class" and, for a field, its name.
FOCUSED = """() => { const e = document.activeElement;
  return e ? e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.name ? '[' + e.name + ']' : '') : null; }"""

# The colour of the focus ring on the focused element and of what is behind it, as [r, g, b] lists.
RING_AND_BACKGROUND = """() => {
  const e = document.activeElement;
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).slice(0, 4).map(Number);
  const style = getComputedStyle(e);
  let node = e.parentElement, behind = [255, 255, 255];
  while (node) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) { behind = c.slice(0, 3); break; }
    node = node.parentElement;
  }
  return {element: e.outerHTML.slice(0, 80), style: style.outlineStyle, width: parseFloat(style.outlineWidth),
          ring: rgb(style.outlineColor).slice(0, 3), behind: behind};
}"""


def contrast(a, b):
    """WCAG 2's contrast ratio of two sRGB colours given as [r, g, b] in 0–255."""
    def luminance(rgb):
        channels = [c / 255 for c in rgb]
        channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


class KeyboardTestCase(WorkspaceTestCase):
    def focused(self):
        return self.page.evaluate(FOCUSED)

    def tab_to(self, locator, limit):
        """Press Tab until `locator` has focus; the number of presses, failing past `limit`."""
        for presses in range(1, limit + 1):
            self.page.keyboard.press("Tab")
            if locator.evaluate("(element) => element === document.activeElement"):
                return presses
        self.fail(f"{limit} Tab presses did not reach {locator}; focus is on {self.focused()}")

    def announced(self):
        return self.page.locator("#announcer")

    def select_with_keyboard(self, quote):
        """From the wording's caret at its start, move to `quote` a word at a time and select it with Shift."""
        before = len(WORDS.findall(TEXT[: TEXT.index(quote)]))
        for _ in range(before):
            self.page.keyboard.press("ArrowRight")
        for _ in range(len(WORDS.findall(quote))):
            self.page.keyboard.press("Shift+ArrowRight")


class KeyboardPathTests(KeyboardTestCase):
    def test_log_in_select_annotate_tag_save_edit_delete_with_the_keyboard_alone(self):
        """The whole path by keyboard, focus asserted after each step and axe-core run in each state."""
        page = self.page
        page.goto(self.url)
        expect(page.locator("#id_username")).to_be_focused()  # the login form's first field
        page.keyboard.type("ana")
        page.keyboard.press("Tab")
        expect(page.locator("#id_password")).to_be_focused()
        page.keyboard.type("a-long-test-password")
        page.keyboard.press("Enter")
        expect(page).to_have_url(self.live_server_url + self.url)
        page.wait_for_load_state("load")

        # To the keyboard selection: past the skip link, the site's links and the breadcrumb.
        toggle = page.get_by_role("button", name="Select words with the keyboard")
        presses = self.tab_to(toggle, limit=10)
        page.keyboard.press("Enter")
        wording = page.locator("#wording")
        expect(wording).to_be_focused()
        expect(wording).to_have_attribute("role", "textbox")
        expect(toggle).to_have_attribute("aria-pressed", "true")
        expect(page.locator(".keyboard-caret")).to_be_visible()
        self.assert_accessible("the keyboard selection mode")

        self.select_with_keyboard(QUOTE)
        expect(self.announced()).to_have_text(f"Selected: {QUOTE}")
        expect(page.get_by_role("button", name="Annotate (A)")).to_be_visible()
        page.keyboard.press("a")
        body = page.locator("#annotation-form textarea[name=body]")
        expect(body).to_be_focused()
        expect(page.locator("#annotation-form [name=exact]")).to_have_value(QUOTE)
        self.assert_accessible("the editor open on the selected words")

        page.keyboard.type("Triggers *automatic* assistance.")
        page.keyboard.press("Tab")
        tag = page.locator("#annotation-form").get_by_label("military-assistance")
        expect(tag).to_be_focused()
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        expect(page.locator("#annotation-form [name=new_tags]")).to_be_focused()
        page.keyboard.type("legal-threshold")
        save = page.locator("#annotation-form").get_by_role("button", name="Save annotation")
        self.tab_to(save, limit=3)
        page.keyboard.press("Enter")

        expect(self.announced()).to_have_text("Annotation saved.")
        annotation = Annotation.objects.get()
        card = self.card(annotation.pk)
        expect(card).to_be_focused()
        expect(page.locator("#annotation-form")).to_be_hidden()  # the editor closed
        self.assertEqual(sorted(annotation.tags.values_list("slug", flat=True)), ["legal-threshold", "military-assistance"])
        self.assert_accessible("after saving a new annotation")

        edit = card.get_by_role("link", name="Edit")
        self.tab_to(edit, limit=8)
        page.keyboard.press("Enter")
        edit_body = card.locator("textarea[name=body]")
        expect(edit_body).to_be_focused()
        self.assert_accessible("the edit form open in its card")
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.type("Only after an armed attack.")
        page.keyboard.press("Control+Enter")
        expect(self.announced()).to_have_text("Changes saved.")
        expect(card).to_be_focused()
        expect(card.locator(".card-body")).to_have_text("Only after an armed attack.")
        self.assert_accessible("after saving an edit")

        delete = card.get_by_role("link", name="Delete")
        self.tab_to(delete, limit=8)
        page.keyboard.press("Enter")
        confirm = card.get_by_role("button", name="Delete")
        expect(confirm).to_be_focused()
        expect(page.get_by_role("region", name="Delete this annotation?")).to_be_visible()
        self.assert_accessible("the delete confirmation")
        page.keyboard.press("Escape")  # cancel: back to the card, untouched
        expect(card.get_by_role("link", name="Edit")).to_be_visible()
        expect(card).to_be_focused()

        self.tab_to(delete, limit=8)
        page.keyboard.press("Enter")
        expect(confirm).to_be_focused()
        page.keyboard.press("Enter")
        expect(self.announced()).to_have_text("Annotation deleted. You can undo this for 15 minutes.")
        expect(card).to_have_count(0)
        expect(page.locator(f"#deleted-{annotation.pk}").get_by_role("button", name="Undo")).to_be_focused()
        self.assert_accessible("after deleting")
        annotation.refresh_from_db()
        self.assertIsNotNone(annotation.deleted_at)
        print(f"\nkeyboard path: {presses} Tab presses from the page's top to the keyboard selection")

    def test_escape_leaves_the_editor_and_returns_to_the_words(self):
        """Esc in the editor closes it and puts focus back in the wording with the same words selected."""
        self.open_workspace()
        self.page.get_by_role("button", name="Select words with the keyboard").click()
        self.select_with_keyboard("armed attack")
        self.page.keyboard.press("Enter")
        expect(self.form_field("body")).to_be_focused()
        self.page.keyboard.press("Escape")
        expect(self.page.locator("#wording")).to_be_focused()
        expect(self.page.locator("#annotation-form")).to_be_hidden()
        self.assertEqual(self.page.evaluate("window.getSelection().toString()"), "armed attack")

    def test_escape_leaves_the_wording_for_the_toggle(self):
        """Esc in the wording ends the keyboard selection and gives focus back to its button."""
        self.open_workspace()
        toggle = self.page.get_by_role("button", name="Select words with the keyboard")
        toggle.click()
        expect(self.page.locator("#wording")).to_be_focused()
        self.page.keyboard.press("Escape")
        expect(toggle).to_be_focused()
        expect(toggle).to_have_attribute("aria-pressed", "false")
        expect(self.page.locator("#wording")).not_to_have_attribute("role", "textbox")

    def test_typed_words_without_a_selection(self):
        """“Type the words” opens the editor on its words field; the server finds the words typed."""
        self.open_workspace()
        self.page.get_by_role("button", name="Type the words").press("Enter")
        expect(self.form_field("exact")).to_be_focused()
        self.page.keyboard.type("thus finds itself")
        self.form_field("body").fill("Typed.")
        self.form_field("body").press("Control+Enter")
        expect(self.announced()).to_have_text("Annotation saved.")
        self.assertEqual(Annotation.objects.get().start, TEXT.index("thus finds itself"))

    def test_refused_note_focuses_the_invalid_field_linked_to_its_error(self):
        """A blank note comes back as a 422: the editor stays open, focus on the note, aria-invalid and
        aria-describedby naming the message, a role=alert summary, and no axe-core violation."""
        self.expected_problems = [r"status of 422", r"HTTP 422: POST .*/annotations/$"]
        self.open_workspace()
        self.page.get_by_role("button", name="Select words with the keyboard").click()
        self.select_with_keyboard(QUOTE)
        self.page.keyboard.press("a")
        self.page.keyboard.type("   ")
        self.page.keyboard.press("Control+Enter")
        body = self.form_field("body")
        expect(body).to_be_focused()
        expect(body).to_have_attribute("aria-invalid", "true")
        described = body.get_attribute("aria-describedby").split()
        error_id = next(name for name in described if name.endswith("_error"))
        expect(self.page.locator(f"#{error_id}")).to_have_text("This field is required.")
        expect(self.page.get_by_role("alert")).to_contain_text("Not saved.")
        self.assert_accessible("a refused new annotation")

    def test_words_not_found_mark_the_words_field(self):
        """Typed words that are not in the text: the words field is aria-invalid and described by the message."""
        self.expected_problems = [r"status of 422", r"HTTP 422: POST .*/annotations/$"]
        self.open_workspace()
        self.page.get_by_role("button", name="Type the words").click()
        self.page.keyboard.type("words that are nowhere")
        self.form_field("body").fill("A note.")
        self.form_field("body").press("Control+Enter")
        exact = self.form_field("exact")
        expect(exact).to_be_focused()
        expect(self.page.locator("#" + exact.get_attribute("aria-describedby").split()[-1])).to_contain_text(
            "These words are not in the text")


class CardFocusTests(KeyboardTestCase):
    def setUp(self):
        super().setUp()
        start = TEXT.index(QUOTE)
        self.annotation = make_annotation(self.provision, self.analyst, start, start + len(QUOTE), body="First.")

    def test_cancel_edit_returns_to_the_card(self):
        """Esc in an open edit form closes it and focus goes back to its card."""
        self.open_workspace()
        card = self.card(self.annotation.pk)
        card.get_by_role("link", name="Edit").press("Enter")
        expect(card.locator("textarea[name=body]")).to_be_focused()
        self.page.keyboard.press("Escape")
        expect(card).to_be_focused()

    def test_reply_opens_focused_and_saves_back_to_the_card(self):
        """Reply puts focus in the reply's field; saving announces it and focus goes back to the card."""
        self.open_workspace()
        card = self.card(self.annotation.pk)
        card.get_by_role("link", name="Reply").press("Enter")
        reply = card.locator(".reply-slot textarea")
        expect(reply).to_be_focused()
        self.page.keyboard.type("I disagree.")
        self.page.keyboard.press("Control+Enter")
        expect(self.announced()).to_have_text("Reply saved.")
        expect(card).to_be_focused()

    def test_open_reply_form_and_mouse_selection_are_accessible(self):
        """axe-core finds no violation with a reply form open in a card and the Annotate control shown."""
        self.open_workspace()
        card = self.card(self.annotation.pk)
        card.get_by_role("link", name="Reply").click()
        expect(card.locator(".reply-slot textarea")).to_be_focused()
        self.drag_select("armed attack")
        expect(self.page.get_by_role("button", name="Annotate (A)")).to_be_visible()
        self.assert_accessible("a reply form open and the Annotate control shown")

    def test_undo_restores_the_card_and_focuses_it(self):
        """Undo after a delete brings the card back with focus on it."""
        self.open_workspace()
        card = self.card(self.annotation.pk)
        card.get_by_role("link", name="Delete").press("Enter")
        expect(card.get_by_role("button", name="Delete")).to_be_focused()
        self.page.keyboard.press("Enter")
        undo = self.page.locator(f"#deleted-{self.annotation.pk}").get_by_role("button", name="Undo")
        expect(undo).to_be_focused()
        self.page.keyboard.press("Enter")
        expect(self.announced()).to_have_text("Annotation restored.")
        expect(card).to_be_focused()

    def test_filter_keeps_focus_on_its_control(self):
        """Choosing a filter with the keyboard swaps the workspace and leaves focus on that filter."""
        make_annotation(self.provision, self.analyst, 0, 6, body="Tagged.", tags=[self.tag])
        self.open_workspace()
        select = self.page.locator("form.filters select[name=tag]")
        select.focus()
        select.select_option("military-assistance")
        expect(self.page).to_have_url(re.compile(r"\?tag=military-assistance"))
        expect(self.page.locator("form.filters select[name=tag]")).to_be_focused()

    def test_focus_ring_has_three_to_one_contrast_wherever_it_goes(self):
        """Every Tab stop of the workspace (and of its open editor) shows a solid ring of 2 px or more
        whose colour has 3:1 or more against what is behind it (WCAG 1.4.11)."""
        self.open_workspace()
        self.page.get_by_role("button", name="Select words with the keyboard").click()
        self.page.keyboard.press("Shift+ArrowRight")
        self.page.keyboard.press("a")
        rings = []
        for _ in range(40):
            self.page.keyboard.press("Tab")
            if self.page.evaluate("document.activeElement !== document.body"):  # past the last stop: the browser's own
                rings.append(self.page.evaluate(RING_AND_BACKGROUND))
        self.assertGreater(len(rings), 20)
        weak = [(r["element"], r["style"], r["width"], round(contrast(r["ring"], r["behind"]), 2)) for r in rings
                if r["style"] != "solid" or r["width"] < 2 or contrast(r["ring"], r["behind"]) < 3]
        self.assertEqual(weak, [])


class PrintTests(WorkspaceTestCase):
    def test_the_workspace_prints_the_numbered_wording_and_the_notes_without_forms(self):
        """Printed, the workspace shows the wording with its highlights and their numbers and the notes;
        no form, filter or button is printed."""
        start = TEXT.index(QUOTE)
        annotation = make_annotation(self.provision, self.analyst, start, start + len(QUOTE), body="Printed note.")
        self.open_workspace()
        self.page.emulate_media(media="print")
        printed = self.page.evaluate("""(pk) => {
          const shown = (e) => e && getComputedStyle(e).display !== 'none' && e.getClientRects().length > 0;
          const ref = document.querySelector('#wording .hl-ref[data-ref="' + pk + '"]');
          return {
            wording: shown(document.getElementById('wording')),
            highlight: shown(document.getElementById('hl-' + pk)),
            number: ref ? getComputedStyle(ref, '::after').content : null,
            note: shown(document.querySelector('#annotation-' + pk + ' .card-body')),
            forms: Array.from(document.querySelectorAll('form, button, select')).filter(shown).length,
          };
        }""", annotation.pk)
        self.assertEqual(
            printed, {"wording": True, "highlight": True, "number": f'"{annotation.pk}"', "note": True, "forms": 0}
        )


class NoJumpTests(WorkspaceTestCase):
    def test_opening_and_closing_the_editor_moves_nothing(self):
        """The editor opens over the page beside the words and closes again: the page neither scrolls nor
        shifts (the scroll position and the wording's place are the same before, during and after)."""
        self.page.set_viewport_size({"width": 1280, "height": 500})
        self.open_workspace()
        self.page.evaluate("window.scrollTo(0, 120)")
        where = "() => [window.scrollY, Math.round(document.getElementById('wording').getBoundingClientRect().top)]"
        before = self.page.evaluate(where)
        self.drag_select(QUOTE)
        self.annotate_button.click()
        expect(self.form_field("body")).to_be_focused()
        opened = self.page.evaluate(where)
        self.page.keyboard.press("Escape")
        expect(self.page.locator("#annotation-form")).to_be_hidden()
        self.assertEqual([opened, self.page.evaluate(where)], [before, before])
