"""Tests for annotations.anchoring: span checks, quote selectors, typed words and re-anchoring."""

import random
import re
import statistics
import time
import unicodedata

from django.test import SimpleTestCase

from annotations.anchoring import (
    CONTEXT_LENGTH,
    DRIFT_THRESHOLD,
    FUZZY_THRESHOLD,
    HINT_NEAR,
    AnchorError,
    Candidate,
    Located,
    Placement,
    Reanchored,
    TextQuote,
    _Collapsed,
    _similarity,
    check_span,
    find_unique,
    locate,
    quote_selector,
    reanchor,
)

ARTICLE = (
    "Article 4. Notification. 1. Each Party shall notify the Secretariat of any new measure "
    "within thirty days of its adoption. 2. Each Party shall publish its laws and regulations "
    "promptly. 3. The Committee shall review the notifications annually."
)
QUOTE = "Each Party shall notify the Secretariat of any new measure within thirty days"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def anchor(text: str, quote: str, occurrence: int = 0) -> tuple[int, TextQuote]:
    """Start offset and selector of the n-th occurrence of ``quote`` in ``text``."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(quote, start + 1)
    return start, quote_selector(text, start, start + len(quote))


def again(new_text: str, selector: TextQuote, old_start: int | None = None) -> Reanchored:
    return reanchor(
        new_text, exact=selector.exact, prefix=selector.prefix, suffix=selector.suffix, old_start=old_start
    )


class CheckSpanTests(SimpleTestCase):
    def test_valid_span_passes(self):
        """A span whose text equals the quote is accepted."""
        self.assertIsNone(check_span("abcdef", 1, 4, "bcd"))

    def test_whole_text_span_passes(self):
        """The span may cover the whole text (end == len(text))."""
        self.assertIsNone(check_span("abc", 0, 3, "abc"))

    def test_end_past_text_is_out_of_range(self):
        """end > len(text) raises out_of_range."""
        with self.assertRaises(AnchorError) as ctx:
            check_span("abc", 1, 4, "bc")
        self.assertEqual(ctx.exception.code, "out_of_range")

    def test_negative_start_is_out_of_range(self):
        """A negative start raises out_of_range (it must not wrap around like a slice)."""
        with self.assertRaises(AnchorError) as ctx:
            check_span("abc", -2, 3, "bc")
        self.assertEqual(ctx.exception.code, "out_of_range")

    def test_start_after_end_is_out_of_range(self):
        """start > end raises out_of_range."""
        with self.assertRaises(AnchorError) as ctx:
            check_span("abcdef", 4, 2, "")
        self.assertEqual(ctx.exception.code, "out_of_range")

    def test_non_integer_offsets_are_out_of_range(self):
        """Booleans and floats are not offsets."""
        for start, end in ((True, 2), (0, 2.0), (None, 2)):
            with self.subTest(start=start, end=end), self.assertRaises(AnchorError) as ctx:
                check_span("abc", start, end, "ab")  # type: ignore[arg-type]
            self.assertEqual(ctx.exception.code, "out_of_range")

    def test_empty_span_is_rejected(self):
        """start == end raises empty."""
        with self.assertRaises(AnchorError) as ctx:
            check_span("abc", 2, 2, "")
        self.assertEqual(ctx.exception.code, "empty")

    def test_mismatched_quote_is_rejected(self):
        """A quote that differs from the text at the span raises quote_mismatch."""
        with self.assertRaises(AnchorError) as ctx:
            check_span("abcdef", 1, 4, "bcx")
        self.assertEqual(ctx.exception.code, "quote_mismatch")

    def test_anchor_error_is_a_value_error(self):
        """AnchorError subclasses ValueError and keeps its message."""
        error = AnchorError("nope", "empty")
        self.assertIsInstance(error, ValueError)
        self.assertEqual(str(error), "nope")

    def test_offsets_are_code_points_not_utf16_units(self):
        """An astral emoji is one offset; UTF-16 offsets posted unconverted are rejected."""
        text = "a😀b"
        self.assertEqual(utf16_len(text), 4)
        check_span(text, 1, 2, "😀")
        check_span(text, 2, 3, "b")
        with self.assertRaises(AnchorError) as ctx:
            check_span(text, 3, 4, "b")  # UTF-16 offsets of "b"
        self.assertEqual(ctx.exception.code, "out_of_range")


class QuoteSelectorTests(SimpleTestCase):
    def test_context_in_the_middle_is_full_length(self):
        """Away from the edges prefix and suffix are CONTEXT_LENGTH code points."""
        text = "x" * 100 + "QUOTE" + "y" * 100
        selector = quote_selector(text, 100, 105)
        self.assertEqual(selector, TextQuote("QUOTE", "x" * CONTEXT_LENGTH, "y" * CONTEXT_LENGTH))

    def test_context_is_clipped_at_the_start(self):
        """A quote at offset 0 has an empty prefix."""
        selector = quote_selector("Article 1 applies.", 0, 9)
        self.assertEqual(selector, TextQuote("Article 1", "", " applies."))

    def test_context_is_clipped_at_the_end(self):
        """A quote ending the text has an empty suffix and a short prefix if the text is short."""
        selector = quote_selector("Article 1 applies.", 10, 18)
        self.assertEqual(selector, TextQuote("applies.", "Article 1 ", ""))

    def test_custom_context_length(self):
        """The context length can be chosen, including zero."""
        self.assertEqual(quote_selector("abcdefg", 3, 4, context=2), TextQuote("d", "bc", "ef"))
        self.assertEqual(quote_selector("abcdefg", 3, 4, context=0), TextQuote("d", "", ""))

    def test_invalid_span_raises(self):
        """quote_selector validates the span like check_span."""
        for start, end, code in ((0, 0, "empty"), (-1, 2, "out_of_range"), (2, 99, "out_of_range")):
            with self.subTest(start=start, end=end), self.assertRaises(AnchorError) as ctx:
                quote_selector("abcdef", start, end)
            self.assertEqual(ctx.exception.code, code)

    def test_combining_mark_is_its_own_code_point(self):
        """A decomposed "é" (e + U+0301) is two offsets, and the quote keeps both."""
        text = "Café au lait".replace("é", "e\u0301")
        self.assertEqual(len(text), 13)
        selector = quote_selector(text, 3, 5)
        self.assertEqual(selector.exact, "e\u0301")
        self.assertEqual(selector.prefix, "Caf")
        self.assertEqual(selector.suffix, " au lait")

    def test_context_may_split_a_combining_sequence(self):
        """Context is cut by code point, so a prefix can start with a bare combining mark."""
        text = "Cafe\u0301 noir"
        selector = quote_selector(text, 6, 10, context=2)
        self.assertEqual(selector, TextQuote("noir", "\u0301 ", ""))

    def test_surrogate_pair_emoji_is_one_code_point(self):
        """😀 is one code point (two UTF-16 units), so the suffix after it is counted in code points."""
        text = "Party 😀 agrees"
        start = text.index("😀")
        selector = quote_selector(text, start, start + 1, context=3)
        self.assertEqual(selector, TextQuote("😀", "ty ", " ag"))
        self.assertEqual(utf16_len(selector.exact), 2)

    def test_zwj_sequence_spans_all_its_code_points(self):
        """A ZWJ family emoji is five code points; the offsets cover all of them."""
        family = "\U0001F468\u200D\U0001F469\u200D\U0001F467"
        text = f"The {family} clause"
        self.assertEqual(len(family), 5)
        self.assertEqual(utf16_len(family), 8)
        selector = quote_selector(text, 4, 9, context=4)
        self.assertEqual(selector, TextQuote(family, "The ", " cla"))

    def test_hangul_and_cyrillic_offsets(self):
        """Precomposed Hangul syllables and Cyrillic letters are one code point each."""
        text = "대한민국과 Российская Федерация 사이의 조약"
        start = text.index("Российская")
        selector = quote_selector(text, start, start + len("Российская Федерация"), context=6)
        self.assertEqual(start, 6)
        self.assertEqual(selector, TextQuote("Российская Федерация", "대한민국과 ", " 사이의 조"))


class ReanchorExactTests(SimpleTestCase):
    def test_unchanged_text_is_exact_at_same_offsets(self):
        """Re-anchoring in the same text returns EXACT at the original span."""
        start, selector = anchor(ARTICLE, QUOTE)
        expected = Reanchored(Placement.EXACT, start, start + len(QUOTE), 1.0)
        self.assertEqual(again(ARTICLE, selector), expected)

    def test_insertion_before_shifts_exact(self):
        """Text inserted before the quote shifts the EXACT span by the insertion's length."""
        start, selector = anchor(ARTICLE, QUOTE)
        insert = "Preamble added by the 2025 amendment. "
        result = again(insert + ARTICLE, selector, old_start=start)
        self.assertEqual(result.placement, Placement.EXACT)
        self.assertEqual((result.start, result.end), (start + len(insert), start + len(insert) + len(QUOTE)))

    def test_twice_disambiguated_by_prefix(self):
        """Of two verbatim copies, the one whose preceding text matches is chosen."""
        text = (
            "Article 7. Tariffs. Each Party shall eliminate customs duties on originating goods. "
            "Article 8. Fees and charges. Each Party shall eliminate customs duties on originating goods."
        )
        quote = "Each Party shall eliminate customs duties"
        start, selector = anchor(text, quote, occurrence=1)
        new_text = "Article 1. Scope. This Chapter applies to goods. " + text
        result = again(new_text, selector)
        self.assertEqual(result.placement, Placement.EXACT)
        self.assertEqual(result.start, new_text.index(quote, new_text.index("Article 8")))

    def test_twice_disambiguated_by_suffix(self):
        """Of two verbatim copies with the same prefix, the one whose following text matches wins."""
        text = "The Parties shall consult promptly. The Parties shall consult annually in Geneva."
        quote = "The Parties shall consult"
        start, selector = anchor(text, quote, occurrence=1)
        self.assertEqual(again(text, selector).start, start)
        start0, selector0 = anchor(text, quote, occurrence=0)
        self.assertEqual(again(text, selector0).start, start0)

    def test_unchanged_boilerplate_picks_the_unique_perfect_context(self):
        """In unchanged text, the one copy whose context matches exactly is chosen even among near-twins."""
        text = "Article 5. The Party concerned shall act. Article 6. The Party concerned shall act."
        quote = "The Party concerned"
        start, selector = anchor(text, quote, occurrence=1)
        result = again(text, selector)
        self.assertEqual((result.placement, result.start), (Placement.EXACT, start))

    def test_twice_with_identical_context_is_placed_where_it_stood(self):
        """Two copies with identical context: the position hint picks the one where the words stood."""
        clause = "Each Party shall designate a contact point for the purposes of this Agreement. "
        old_text = "Article 1. " + clause
        start, selector = anchor(old_text, "shall designate a contact point")
        new_text = "Article 1. " + clause + "Article 1. " + clause
        result = again(new_text, selector, old_start=start)
        self.assertEqual(result, Reanchored(Placement.EXACT, start, start + len(selector.exact), 1.0))

    def test_twice_with_identical_context_and_no_hint_is_drifted(self):
        """Two copies with identical context and no position: DRIFTED, never a guess."""
        clause = "Each Party shall designate a contact point for the purposes of this Agreement. "
        _, selector = anchor("Article 1. " + clause, "shall designate a contact point")
        new_text = "Article 1. " + clause + "Article 1. " + clause
        self.assertEqual(again(new_text, selector), Reanchored(Placement.DRIFTED, None, None, 1.0))

    def test_hint_halfway_between_twins_decides_nothing(self):
        """A hint about as far from one copy as from the other does not choose: DRIFTED."""
        text = "shall apply. " + "x" * 40 + " shall apply."
        halfway = (text.index("shall apply") + text.rindex("shall apply")) // 2
        self.assertEqual(reanchor(text, exact="shall apply", old_start=halfway).placement, Placement.DRIFTED)

    def test_hint_must_be_near_a_copy(self):
        """A hint more than HINT_NEAR of the text's length from every copy decides nothing."""
        text = "shall apply. " + "x" * 200 + " shall apply. " + "y" * 200
        near_nothing = text.index("x") + 100
        self.assertGreater((near_nothing - text.index("shall")) / len(text), HINT_NEAR)
        self.assertEqual(reanchor(text, exact="shall apply", old_start=near_nothing).placement, Placement.DRIFTED)

    def test_twice_without_context_is_placed_by_a_clear_hint(self):
        """Without prefix/suffix, the copy at the old offset wins when the other is far from it."""
        text = "shall apply. " + "x" * 40 + " shall apply."
        self.assertEqual(reanchor(text, exact="shall apply", old_start=0), Reanchored(Placement.EXACT, 0, 11, 1.0))

    def test_twice_without_context_or_hint_is_drifted(self):
        """Without prefix/suffix or position, two copies cannot be told apart."""
        result = reanchor("shall apply. shall apply.", exact="shall apply")
        self.assertEqual(result, Reanchored(Placement.DRIFTED, None, None, 1.0))

    def test_unique_copy_with_one_side_of_context_intact_is_exact(self):
        """A single verbatim copy whose prefix was rewritten but suffix kept is still EXACT."""
        _, selector = anchor(ARTICLE, QUOTE)
        new_text = ARTICLE.replace("Article 4. Notification. 1. ", "Article 4 (as amended in 2025): ")
        result = again(new_text, selector)
        self.assertEqual((result.placement, result.start), (Placement.EXACT, new_text.index(QUOTE)))

    def test_unique_copy_in_unrelated_context_is_exact_with_low_confidence(self):
        """Words that occur once are placed there, EXACT, even in new surroundings; the score says so."""
        _, selector = anchor(ARTICLE, "new measure")
        new_text = "Annex II lists each new measure adopted since entry into force of this Agreement."
        result = again(new_text, selector)
        at = new_text.index("new measure")
        self.assertEqual((result.placement, result.start, result.end), (Placement.EXACT, at, at + 11))
        self.assertLess(result.score, 0.85)

    def test_old_words_elsewhere_and_edited_words_in_place_are_drifted(self):
        """A verbatim copy in new surroundings and a rewording in the old ones: DRIFTED, both offered."""
        text = "Each Party shall give military and other assistance with all means in its possession, at once."
        _, selector = anchor(text, "all means in its possession")
        new_text = (
            text.replace("all means in its possession", "all means at its disposal")
            + " Each Party shall use all means in its possession to prevent war."
        )
        found = locate(new_text, exact=selector.exact, prefix=selector.prefix, suffix=selector.suffix)
        self.assertEqual(found.placement, Placement.DRIFTED)
        self.assertEqual(
            {c.words for c in found.candidates}, {"all means at its disposal", "all means in its possession"}
        )

    def test_amended_quote_does_not_jump_to_its_old_wording_elsewhere(self):
        """An edited quote stays FUZZY in place although its old wording now appears verbatim elsewhere."""
        _, selector = anchor(ARTICLE, QUOTE)
        amended = QUOTE.replace("shall notify", "must notify")
        new_text = (
            ARTICLE.replace(QUOTE, amended)
            + " Article 9. Review. The Committee may recall that "
            + QUOTE
            + " where it considers this relevant."
        )
        result = again(new_text, selector)
        self.assertEqual(result.placement, Placement.FUZZY)
        self.assertEqual(new_text[result.start : result.end], amended)

    def test_cyrillic_insertion_before_shifts_exact(self):
        """A Russian text with a sentence inserted before the quote gives the shifted code-point span."""
        text = "Статья 3. Каждая Сторона уведомляет Секретариат о любой новой мере."
        quote = "уведомляет Секретариат"
        start, selector = anchor(text, quote)
        insert = "Статья 2 исключена. "
        result = again(insert + text, selector)
        self.assertEqual(result, Reanchored(Placement.EXACT, start + 20, start + 20 + len(quote), 1.0))

    def test_empty_quote_is_rejected(self):
        """An empty quote is a caller error."""
        with self.assertRaises(AnchorError) as ctx:
            reanchor("text", exact="")
        self.assertEqual(ctx.exception.code, "empty")

    def test_placement_is_a_string_enum(self):
        """Placement values serialise as plain strings."""
        self.assertEqual(Placement.FUZZY, "fuzzy")
        self.assertEqual(str(Placement.ORPHANED), "orphaned")


class ReanchorFuzzyTests(SimpleTestCase):
    def test_changed_word_is_fuzzy_with_new_span(self):
        """'shall' -> 'will' inside the quote gives FUZZY over the edited wording."""
        _, selector = anchor(ARTICLE, QUOTE)
        new_text = ARTICLE.replace("Each Party shall notify", "Each Party will notify")
        edited = QUOTE.replace("shall", "will")
        result = again(new_text, selector)
        self.assertEqual(result.placement, Placement.FUZZY)
        at = new_text.index(edited)
        self.assertEqual((result.start, result.end), (at, at + len(edited)))
        self.assertGreaterEqual(result.score, FUZZY_THRESHOLD)
        self.assertLess(result.score, 1.0)

    def test_typo_fix_and_shift_is_fuzzy(self):
        """A typo fixed inside the quote plus an insertion before it gives FUZZY at the new place."""
        old_text = ARTICLE.replace("Secretariat", "Secretariate")
        old_quote = QUOTE.replace("Secretariat", "Secretariat" + "e")
        _, selector = anchor(old_text, old_quote)
        new_text = "Chapter 2. " + ARTICLE
        result = again(new_text, selector)
        self.assertEqual(result.placement, Placement.FUZZY)
        self.assertEqual(new_text[result.start : result.end], QUOTE)

    def test_edit_without_stored_context_is_fuzzy(self):
        """With no prefix/suffix stored, a single close match is still FUZZY (no context gate)."""
        new_text = ARTICLE.replace("thirty days", "30 days")
        result = reanchor(new_text, exact=QUOTE)
        self.assertEqual(result.placement, Placement.FUZZY)
        self.assertEqual(new_text[result.start : result.end], QUOTE.replace("thirty", "30"))

    def test_edit_at_start_of_text_is_fuzzy(self):
        """A quote at offset 0 (empty prefix) that is edited is found via its suffix."""
        _, selector = anchor(ARTICLE, "Article 4. Notification.")
        self.assertEqual(selector.prefix, "")
        new_text = ARTICLE.replace("Article 4. Notification.", "Article 4. Notifications.")
        result = again(new_text, selector)
        self.assertEqual((result.placement, result.start, result.end), (Placement.FUZZY, 0, 25))

    def test_whitespace_only_change_is_found(self):
        """Re-flowed whitespace (newline, double spaces) is found as FUZZY with score 1.0."""
        _, selector = anchor(ARTICLE, QUOTE)
        new_text = ARTICLE.replace("notify the Secretariat", "notify  the\n   Secretariat").replace(
            "1. Each", "1.\n\nEach"
        )
        result = again(new_text, selector)
        self.assertEqual(result.placement, Placement.FUZZY)
        self.assertEqual(result.score, 1.0)
        span = new_text[result.start : result.end]
        self.assertEqual(" ".join(span.split()), QUOTE)
        self.assertTrue(span.startswith("Each") and span.endswith("days"))

    def test_typographic_quotes_and_dashes_are_normalisation(self):
        """Curly apostrophe -> straight and em dash -> hyphen is FUZZY with score 1.0, offsets in the new text."""
        text = "the Democratic People’s Republic of Korea — the DPRK — and the Russian Federation"
        words = "People’s Republic of Korea — the DPRK"
        _, selector = anchor(text, words)
        new_text = "Preamble. " + text.replace("’", "'").replace("—", "-")
        result = again(new_text, selector)
        plain = "People's Republic of Korea - the DPRK"
        at = new_text.index(plain)
        self.assertEqual(result, Reanchored(Placement.FUZZY, at, at + len(plain), 1.0))

    def test_quote_deleted_is_orphaned(self):
        """When the quoted sentence is removed, the annotation is ORPHANED."""
        _, selector = anchor(ARTICLE, QUOTE)
        new_text = ARTICLE.replace(
            "1. Each Party shall notify the Secretariat of any new measure within thirty days "
            "of its adoption. ",
            "",
        )
        result = again(new_text, selector)
        self.assertEqual(result.placement, Placement.ORPHANED)
        self.assertIsNone(result.start)
        self.assertLess(result.score, DRIFT_THRESHOLD)

    def test_lookalike_below_threshold_is_not_fuzzy(self):
        """Original removed, similar sentence with different key words remains: DRIFTED, offered, not placed."""
        _, selector = anchor(ARTICLE, QUOTE)
        lookalike = "Each Party shall notify the Committee of any new subsidy within sixty days"
        new_text = (
            "Article 4. Notification. 1. Each Party shall publish its laws and regulations promptly. "
            f"2. {lookalike} of its adoption. 3. The Committee shall review the notifications annually."
        )
        self.assertLess(_similarity(QUOTE, lookalike), FUZZY_THRESHOLD)
        found = locate(new_text, exact=selector.exact, prefix=selector.prefix, suffix=selector.suffix)
        self.assertEqual((found.placement, found.start), (Placement.DRIFTED, None))
        self.assertEqual([c.words for c in found.candidates], [lookalike])
        self.assertLess(found.score, FUZZY_THRESHOLD)

    def test_lookalike_above_threshold_in_other_context_is_drifted(self):
        """A near-identical sentence in unrelated surroundings is DRIFTED and offered, not silently adopted."""
        _, selector = anchor(ARTICLE, QUOTE)
        lookalike = "each Party shall notify the Secretariat of any new measure within ninety days"
        new_text = f"Article 9. Transparency. The Parties agree that {lookalike}, as appropriate."
        self.assertGreaterEqual(_similarity(QUOTE, lookalike), FUZZY_THRESHOLD)
        found = locate(new_text, exact=selector.exact, prefix=selector.prefix, suffix=selector.suffix)
        self.assertEqual((found.placement, found.start), (Placement.DRIFTED, None))
        self.assertEqual([c.words for c in found.candidates], [lookalike])

    def test_two_equally_good_edited_copies_are_drifted(self):
        """If the edited quote appears twice with equal evidence, the result is DRIFTED."""
        quote = "notify the Secretariat of any new measure"
        result = reanchor(
            "A. Each Party shall notify the Secretariat of any new measures. "
            "B. Each Party shall notify the Secretariat of any new measures.",
            exact=quote,
            prefix="Each Party shall ",
            suffix=".",
        )
        self.assertEqual(result.placement, Placement.DRIFTED)
        self.assertGreaterEqual(result.score, FUZZY_THRESHOLD)

    def test_korean_edit_is_fuzzy(self):
        """A one-syllable edit in Korean text gives FUZZY with code-point offsets."""
        text = "제5조 통보. 각 당사국은 새로운 조치를 채택한 후 삼십일 이내에 사무국에 통보한다. 제6조 검토."
        quote = "각 당사국은 새로운 조치를 채택한 후 삼십일 이내에 사무국에 통보한다"
        _, selector = anchor(text, quote)
        new_text = "제4조 삭제. " + text.replace("삼십일", "육십일")
        edited = quote.replace("삼십일", "육십일")
        result = again(new_text, selector)
        self.assertEqual(result.placement, Placement.FUZZY)
        self.assertEqual(new_text[result.start : result.end], edited)

    def test_cyrillic_edit_with_emoji_nearby_is_fuzzy(self):
        """A word changed in Russian text after an astral emoji keeps code-point offsets."""
        text = "😀 Статья 3. Каждая Сторона уведомляет Секретариат о любой новой мере в течение тридцати дней."
        quote = "Каждая Сторона уведомляет Секретариат о любой новой мере"
        _, selector = anchor(text, quote)
        new_text = "👨\u200d👩\u200d👧 " + text.replace("уведомляет", "извещает")
        edited = quote.replace("уведомляет", "извещает")
        result = again(new_text, selector)
        self.assertEqual(result.placement, Placement.FUZZY)
        at = new_text.index(edited)
        self.assertEqual((result.start, result.end), (at, at + len(edited)))

    def test_combining_mark_normalisation_change_is_fuzzy(self):
        """A text switching from decomposed (NFD) to precomposed (NFC) é is found as FUZZY, score 1.0."""
        new_text = "Article 2. Le comité de révision se réunit chaque année à Genève."
        text = unicodedata.normalize("NFD", new_text)
        quote = unicodedata.normalize("NFD", "Le comité de révision se réunit chaque année")
        self.assertIn("e\u0301", quote)
        _, selector = anchor(text, quote)
        result = again(new_text, selector)
        self.assertEqual((result.placement, result.score), (Placement.FUZZY, 1.0))
        self.assertEqual(new_text[result.start : result.end], "Le comité de révision se réunit chaque année")


# Article 4 as the RIAC commentary quotes it, and a rewording in the style of an official translation.
ART4 = (
    "In the event that one of the Parties is subjected to an armed attack by an individual country or several "
    "countries and thus finds itself in a state of war, the other Party shall immediately provide military and "
    "other assistance with all means in its possession in accordance with Article 51 of the UN Charter and in "
    "accordance with the laws of the Democratic People’s Republic of Korea and the Russian Federation."
)
ART4_REWORDED = (
    "In case any one of the two sides is put in a state of war by an armed invasion from an individual state or "
    "several states, the other side shall provide military and other assistance with all means in its possession "
    "without delay in accordance with Article 51 of the UN Charter and the laws of the DPRK and the Russian "
    "Federation."
)


def find(new_text: str, selector: TextQuote, **kwargs) -> Located:
    return locate(new_text, exact=selector.exact, prefix=selector.prefix, suffix=selector.suffix, **kwargs)


class LocateTests(SimpleTestCase):
    def test_words_that_occur_once_are_exact_whatever_their_surroundings(self):
        """The user report: 'state of war' and the Article 51 clause occur once in a reworded Article 4: EXACT."""
        for words in ("state of war", "in accordance with Article 51 of the UN Charter"):
            with self.subTest(words):
                _, selector = anchor(ART4, words)
                found = find(ART4_REWORDED, selector)
                at = ART4_REWORDED.index(words)
                self.assertEqual((found.placement, found.start, found.end), (Placement.EXACT, at, at + len(words)))
                self.assertLess(found.score, 1.0)  # the context was rewritten

    def test_exact_in_unchanged_context_scores_one(self):
        """Confidence 1.0 when words and context are as they were."""
        _, selector = anchor(ART4, "state of war")
        self.assertEqual(find("Article 4. " + ART4, selector).score, 1.0)

    def test_result_is_frozen(self):
        """Located and Candidate are immutable values."""
        _, selector = anchor(ART4, "state of war")
        found = find(ART4, selector)
        with self.assertRaises(AttributeError):
            found.start = 0  # type: ignore[misc]
        with self.assertRaises(AttributeError):
            found.candidates[0].score = 0.0  # type: ignore[misc]

    def test_placed_result_offers_its_place_first(self):
        """An EXACT result's first candidate is the place chosen, with the words and context there."""
        _, selector = anchor(ART4, "military and other assistance")
        new_text = "Article 4\n\n" + ART4
        found = find(new_text, selector)
        at = new_text.index("military and other assistance")
        self.assertEqual(
            found.candidates[0],
            Candidate(at, at + 29, "military and other assistance", new_text[at - 32 : at], new_text[at + 29 : at + 61], 1.0),
        )

    def test_drifted_copies_are_offered_as_candidates(self):
        """Copies the context cannot tell apart are DRIFTED, every copy offered with its context."""
        clause = "Each Party shall designate a contact point. "
        _, selector = anchor(clause, "a contact point")
        new_text = clause + clause + clause
        found = find(new_text, selector)
        self.assertEqual((found.placement, found.start, found.end), (Placement.DRIFTED, None, None))
        starts = [i for i in range(len(new_text)) if new_text.startswith("a contact point", i)]
        self.assertEqual(sorted(c.start for c in found.candidates), starts)
        for candidate in found.candidates:
            self.assertEqual(candidate.words, new_text[candidate.start : candidate.end])
            self.assertEqual(candidate.before, new_text[max(0, candidate.start - CONTEXT_LENGTH) : candidate.start])
            self.assertEqual(candidate.after, new_text[candidate.end : candidate.end + CONTEXT_LENGTH])

    def test_limit_caps_the_candidates(self):
        """limit=1 gives one candidate, limit=0 none; the placement is unchanged."""
        clause = "Each Party shall designate a contact point. "
        _, selector = anchor(clause, "a contact point")
        new_text = clause * 3
        self.assertEqual(len(find(new_text, selector, limit=1).candidates), 1)
        self.assertEqual(find(new_text, selector, limit=0), Located(Placement.DRIFTED, None, None, 1.0, ()))

    def test_negative_limit_is_rejected(self):
        """A negative limit is a caller error."""
        with self.assertRaises(ValueError):
            locate("text", exact="text", limit=-1)

    def test_orphaned_offers_nothing(self):
        """Words gone with nothing like them left: ORPHANED, no candidates."""
        _, selector = anchor(ART4, "in accordance with Article 51 of the UN Charter")
        found = find("The Parties shall consult each other regularly on matters of common interest.", selector)
        self.assertEqual((found.placement, found.start, found.candidates), (Placement.ORPHANED, None, ()))

    def test_small_edit_is_fuzzy_and_offered_first(self):
        """'shall' -> 'will' inside the quote: FUZZY on the edited words, which are also candidates[0]."""
        words = "the other Party shall immediately provide military and other assistance"
        _, selector = anchor(ART4, words)
        new_text = ART4.replace("Party shall immediately", "Party will immediately")
        found = find(new_text, selector)
        edited = words.replace("shall", "will")
        at = new_text.index(edited)
        self.assertEqual((found.placement, found.start, found.end), (Placement.FUZZY, at, at + len(edited)))
        self.assertEqual(found.candidates[0].words, edited)

    def test_words_between_unchanged_neighbours_are_fuzzy(self):
        """Reworded between intact neighbours ('by an individual country…' -> 'by any one state…'): FUZZY there."""
        words, reworded = "by an individual country or several countries", "by an individual State or by several States"
        _, selector = anchor(ART4, words)
        new_text = ART4.replace(words, reworded)
        self.assertLess(_similarity(words, reworded), FUZZY_THRESHOLD)
        found = find(new_text, selector)
        at = new_text.index(reworded)
        self.assertEqual((found.placement, found.start, found.end), (Placement.FUZZY, at, at + len(reworded)))

    def test_words_between_neighbours_too_unlike_are_offered_only(self):
        """Less than DRIFT_THRESHOLD alike ('…several countries' -> 'by any one state…'): DRIFTED, offered."""
        words, reworded = "by an individual country or several countries", "by any one state or several states"
        _, selector = anchor(ART4, words)
        new_text = ART4.replace(words, reworded)
        self.assertLess(_similarity(words, reworded), DRIFT_THRESHOLD)
        found = find(new_text, selector)
        self.assertEqual((found.placement, found.start), (Placement.DRIFTED, None))
        self.assertEqual(found.candidates[0].words, reworded)

    def test_deleted_clause_is_not_filled_by_its_neighbour(self):
        """The Article 51 clause deleted: the 'in accordance with the laws' clause that follows is not taken for it."""
        _, selector = anchor(ART4, "in accordance with Article 51 of the UN Charter")
        new_text = ART4.replace(" in accordance with Article 51 of the UN Charter and", "")
        found = find(new_text, selector)
        self.assertEqual((found.placement, found.start), (Placement.DRIFTED, None))
        self.assertNotIn("Article 51", new_text)

    def test_reworded_in_new_surroundings_is_drifted_and_offered(self):
        """A close match whose surroundings were rewritten is proposed, not placed."""
        words = "the other signatory shall immediately provide military and other assistance"
        old_text = f"As it says, in the event of an attack by a third country, {words}. Such wording implies an alliance."
        _, selector = anchor(old_text, words)
        found = find(ART4, selector)
        expected = "the other Party shall immediately provide military and other assistance"
        self.assertEqual((found.placement, found.start), (Placement.DRIFTED, None))
        self.assertEqual(found.candidates[0].words, expected)

    def test_reanchor_is_locate_without_candidates(self):
        """reanchor() returns locate()'s placement, span and score, with old_start as the hint."""
        clause = "Each Party shall designate a contact point. "
        start, selector = anchor(clause, "a contact point")
        new_text = clause + "x" * 200 + clause
        found = find(new_text, selector, start_hint=start)
        self.assertEqual(found.placement, Placement.EXACT)
        self.assertEqual(again(new_text, selector, old_start=start), Reanchored(found.placement, found.start, found.end, found.score))


class UnicodeCandidatesTests(SimpleTestCase):
    """Offsets are code points everywhere: an emoji before the words moves them by one, not two."""

    def test_emoji_before_the_words(self):
        """A flag (two code points, four UTF-16 units) inserted before: the span moves by two code points."""
        text = "The Parties shall consult each other."
        start, selector = anchor(text, "consult each other")
        new_text = "🇰🇵 " + text
        found = find(new_text, selector)
        self.assertEqual((found.placement, found.start), (Placement.EXACT, start + 3))
        self.assertEqual(utf16_len(new_text[: found.start]), start + 5)
        self.assertEqual(found.candidates[0].before, new_text[: found.start])

    def test_cyrillic_edit_candidate(self):
        """A Russian word changed after an emoji: FUZZY, the candidate's words are the text at its offsets."""
        text = "Другая Сторона незамедлительно оказывает военную и иную помощь всеми средствами."
        words = "Другая Сторона незамедлительно оказывает военную и иную помощь"
        _, selector = anchor(text, words)
        new_text = "👨\u200d👩\u200d👧 " + text.replace("незамедлительно", "немедленно")
        found = find(new_text, selector)
        edited = words.replace("незамедлительно", "немедленно")
        at = new_text.index(edited)
        self.assertEqual((found.placement, found.start, found.end), (Placement.FUZZY, at, at + len(edited)))
        self.assertEqual(at, 6)
        self.assertEqual(found.candidates[0].words, edited)

    def test_korean_copies_are_candidates_in_code_points(self):
        """Two Korean copies in identical context: DRIFTED, both offered at code-point offsets."""
        sentence = "타방은 지체없이 군사적 및 기타 원조를 제공한다. "
        _, selector = anchor(sentence, "군사적 및 기타 원조")
        new_text = "😀" + sentence + sentence
        found = find(new_text, selector)
        self.assertEqual(found.placement, Placement.DRIFTED)
        self.assertEqual(sorted(c.start for c in found.candidates), [10, 10 + len(sentence)])
        self.assertEqual({c.words for c in found.candidates}, {"군사적 및 기타 원조"})


class FindUniqueTests(SimpleTestCase):
    def test_words_found_once(self):
        """Words that occur once give their code-point span."""
        self.assertEqual(find_unique(ART4, "state of war"), (ART4.index("state of war"), ART4.index("state of war") + 12))

    def test_words_not_found(self):
        """Words that do not occur: not_found."""
        with self.assertRaises(AnchorError) as ctx:
            find_unique(ART4, "state of emergency")
        self.assertEqual((ctx.exception.code, ctx.exception.count), ("not_found", 0))

    def test_words_found_twice_are_ambiguous(self):
        """Words that occur twice: ambiguous, with the count."""
        with self.assertRaises(AnchorError) as ctx:
            find_unique(ART4, "in accordance with")
        self.assertEqual((ctx.exception.code, ctx.exception.count), ("ambiguous", 2))
        self.assertIn("2 times", str(ctx.exception))

    def test_overlapping_copies_are_ambiguous(self):
        """'aa' stands twice in 'aaa' (overlapping): ambiguous, although str.count says 1."""
        self.assertEqual("aaa".count("aa"), 1)
        with self.assertRaises(AnchorError) as ctx:
            find_unique("aaa", "aa")
        self.assertEqual((ctx.exception.code, ctx.exception.count), ("ambiguous", 2))

    def test_empty_words_are_rejected(self):
        """No words: empty."""
        with self.assertRaises(AnchorError) as ctx:
            find_unique(ART4, "")
        self.assertEqual(ctx.exception.code, "empty")

    def test_offsets_are_code_points(self):
        """Emoji, Cyrillic and Korean before the words count one offset per code point."""
        text = "🇰🇵 Корея, 조선: state of war"
        start, end = find_unique(text, "state of war")
        self.assertEqual((start, end), (14, 26))
        self.assertEqual(text[start:end], "state of war")
        self.assertEqual(utf16_len(text[:start]), 16)

    def test_is_case_and_whitespace_exact(self):
        """Typed words must match exactly: another case or spacing is not found."""
        for words in ("State of war", "state  of war"):
            with self.subTest(words), self.assertRaises(AnchorError) as ctx:
                find_unique(ART4, words)
            self.assertEqual(ctx.exception.code, "not_found")


class InternalsTests(SimpleTestCase):
    def test_collapsed_text_maps_offsets_back(self):
        """Whitespace collapsing agrees with a plain regex and maps every character to its origin."""
        rng = random.Random(2)
        for _ in range(300):
            text = "".join(rng.choice("ab \n\t\u00a0😀") for _ in range(rng.randint(0, 40)))
            collapsed = _Collapsed(text)
            self.assertEqual(collapsed.text, re.sub(r"\s+", " ", text))
            expected = [m.start() for m in re.finditer(r"\s+|\S", text)]
            self.assertEqual([collapsed.origin(i) for i in range(len(collapsed.text))], expected, repr(text))


_WORDS = (
    "party parties shall may measure measures agreement article paragraph provision treaty state "
    "committee secretariat notify notification information within days months year accordance "
    "obligations rights implementation commission protocol annex dispute settlement consultation "
    "request territory goods services investment investor national treatment tariff customs duty "
    "origin rules procedures transparency review amendment entry force ratification acceptance "
    "approval accession withdrawal depositary the of and to in any such other that which for by "
    "with as on or be not this its relevant appropriate reasonable necessary including without "
    "prejudice pursuant under referred subject respect each both all"
).split()


def treaty_text(length: int, seed: int) -> str:
    """Deterministic, repetitive treaty-like prose (a hard case: few distinctive n-grams)."""
    rng = random.Random(seed)
    parts, size, article = [], 0, 1
    while size < length:
        if rng.random() < 0.08:
            part = f"\n\nArticle {article}\n"
            article += 1
        else:
            part = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 30))).capitalize() + ". "
        parts.append(part)
        size += len(part)
    return "".join(parts)[:length]


class PerformanceTests(SimpleTestCase):
    def test_reanchor_timing_on_30000_chars(self):
        """On 30,000 characters: a shifted quote is EXACT, a one-character edit FUZZY, a cut quote not
        placed, each at the offsets expected; the timings are printed (run with -s)."""
        text = treaty_text(30_000, seed=7)
        rng = random.Random(11)
        timings: dict[str, list[float]] = {"exact": [], "fuzzy": [], "cut": []}
        preamble = "Inserted preamble. "
        for _ in range(20):
            length = rng.choice((40, 120, 300))
            start = rng.randrange(0, len(text) - length)
            selector = quote_selector(text, start, start + length)
            middle = start + length // 2
            edited = "Y" if text[middle] == "X" else "X"
            cases = {
                "exact": (preamble + text, (start + len(preamble), start + len(preamble) + length)),
                "fuzzy": (text[:middle] + edited + text[middle + 1 :], (start, start + length)),
                "cut": (text[:start] + text[start + length :], (None, None)),
            }
            for kind, (new_text, expected) in cases.items():
                t0 = time.perf_counter()
                result = again(new_text, selector)
                timings[kind].append((time.perf_counter() - t0) * 1000)
                with self.subTest(kind=kind, start=start, length=length):
                    self.assertEqual((result.start, result.end), expected)
                    if kind == "exact":
                        self.assertEqual(result.placement, Placement.EXACT)
                    elif kind == "fuzzy":
                        self.assertEqual(result.placement, Placement.FUZZY)
        for kind, values in timings.items():
            print(
                f"\nreanchor {kind:8} on {len(text)} chars: median {statistics.median(values):.2f} ms, "
                f"max {max(values):.2f} ms over {len(values)} quotes",
                end="",
            )
        print()
