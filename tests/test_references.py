"""Tests for treaty_app.references.find_references."""

import re
from pathlib import Path

from django.test import SimpleTestCase

from treaty_app.references import MAX_RANGE_SPAN, Reference, find_references

from .shared import SOURCES, needs_shared

ARTICLE_COUNT = 23


def slugs(paragraph: str, **kwargs) -> list[str]:
    """All provision slugs found in the paragraph, in reading order."""
    return [slug for ref in find_references(paragraph, **kwargs) for slug in ref.provisions]


def texts(paragraph: str, **kwargs) -> list[str]:
    return [ref.text for ref in find_references(paragraph, **kwargs)]


class InterfaceTests(SimpleTestCase):
    def test_reference_fields_and_offsets(self):
        """A reference carries its offsets, its text as written and its slugs."""
        paragraph = "As noted, Article 4 of the treaty applies."
        [ref] = find_references(paragraph)
        self.assertEqual(ref, Reference(start=10, end=19, text="Article 4", provisions=("art-4",)))
        self.assertEqual(paragraph[ref.start:ref.end], ref.text)

    def test_reference_is_frozen(self):
        """Reference instances are immutable."""
        [ref] = find_references("Article 4")
        with self.assertRaises(AttributeError):
            ref.start = 3  # type: ignore[misc]

    def test_reading_order(self):
        """Article and preamble references come back sorted by position."""
        paragraph = "Article 9 echoes the preamble, and Articles 1 and 2 follow."
        self.assertEqual(texts(paragraph), ["Article 9", "preamble", "Articles 1 and 2"])

    def test_empty_and_reference_free_text(self):
        """Text without references yields an empty list."""
        self.assertEqual(find_references(""), [])
        self.assertEqual(find_references("The treaty was signed in Pyongyang."), [])

    def test_offsets_are_python_string_indices(self):
        """Offsets count code points, so non-ASCII text before a reference is handled."""
        paragraph = "«Читать» — “quoted” (Article 23)"
        [ref] = find_references(paragraph)
        self.assertEqual(paragraph[ref.start:ref.end], "Article 23")


class SingleArticleTests(SimpleTestCase):
    def test_capitalised_and_lower_case(self):
        """'Article 4' and 'article 8' are single references."""
        self.assertEqual(slugs("Article 4 and article 8"), ["art-4", "art-8"])

    def test_upper_case(self):
        """'ARTICLE 7' is read regardless of case."""
        self.assertEqual(slugs("See ARTICLE 7."), ["art-7"])

    def test_in_parentheses(self):
        """'(Article 23)' yields art-23 and the text excludes the brackets."""
        self.assertEqual(texts("open-ended (Article 23), which"), ["Article 23"])
        self.assertEqual(slugs("open-ended (Article 23), which"), ["art-23"])

    def test_abbreviations(self):
        """'Art. 16', 'Art.16' and 'art 4' are abbreviations of Article."""
        self.assertEqual(slugs("Art. 16 targets sanctions"), ["art-16"])
        self.assertEqual(slugs("Art.16 targets sanctions"), ["art-16"])
        self.assertEqual(slugs("see art 4 for details"), ["art-4"])

    def test_subdivisions_kept_in_text(self):
        """'Article 4(1)(a)' keeps its subdivisions in the text and maps to art-4."""
        [ref] = find_references("Article 4(1)(a) of the treaty says")
        self.assertEqual((ref.text, ref.provisions), ("Article 4(1)(a)", ("art-4",)))

    def test_non_breaking_space(self):
        """A non-breaking space between keyword and number is accepted."""
        self.assertEqual(slugs("Article\u00a04 mentions war"), ["art-4"])

    def test_singular_keyword_takes_one_number(self):
        """'Article 4 and 5 countries' is only art-4: a singular keyword takes no list."""
        self.assertEqual(texts("Article 4 and 5 countries agreed"), ["Article 4"])

    def test_singular_keyword_takes_tight_dash_range(self):
        """'Article 4-6' (no spaces) is read as a range even with a singular keyword."""
        self.assertEqual(slugs("Article 4-6"), ["art-4", "art-5", "art-6"])

    def test_four_digit_number_is_not_an_article(self):
        """'Article 1961' (a year-like number) is not a reference."""
        self.assertEqual(find_references("Article 1961 was cited"), [])

    def test_keyword_inside_word_is_ignored(self):
        """'state-of-the-art 5' and 'mart 4' are not references."""
        self.assertEqual(find_references("a state-of-the-art 5 step plan at mart 4"), [])

    def test_article_zero_dropped(self):
        """'Article 0' designates nothing and is dropped."""
        self.assertEqual(find_references("Article 0"), [])


class RangeTests(SimpleTestCase):
    def test_en_dash_range(self):
        """'Articles 18–20' expands to every article in the range."""
        self.assertEqual(slugs("Articles 18–20 appear"), ["art-18", "art-19", "art-20"])

    def test_hyphen_range(self):
        """'Articles 18-20' with a hyphen is a range."""
        self.assertEqual(slugs("Articles 18-20"), ["art-18", "art-19", "art-20"])

    def test_spaced_em_dash_range(self):
        """'articles 18 — 20' with a spaced em dash is a range."""
        self.assertEqual(texts("articles 18 — 20 seem"), ["articles 18 — 20"])
        self.assertEqual(slugs("articles 18 — 20 seem"), ["art-18", "art-19", "art-20"])

    def test_word_ranges(self):
        """'to' and 'through' make ranges."""
        self.assertEqual(slugs("Articles 10 to 12"), ["art-10", "art-11", "art-12"])
        self.assertEqual(slugs("Articles 10 through 12"), ["art-10", "art-11", "art-12"])

    def test_reversed_range_dropped(self):
        """'Articles 20–18' is reversed and yields nothing."""
        self.assertEqual(find_references("Articles 20–18"), [])

    def test_huge_range_dropped(self):
        """A range wider than MAX_RANGE_SPAN is dropped rather than expanded."""
        self.assertEqual(find_references(f"Articles 1-{MAX_RANGE_SPAN + 5}"), [])

    def test_range_clipped_by_article_count(self):
        """Numbers of a range above article_count are dropped, the rest kept."""
        self.assertEqual(
            slugs("Articles 20-30", article_count=23), ["art-20", "art-21", "art-22", "art-23"]
        )


class ListTests(SimpleTestCase):
    def test_pair(self):
        """'Articles 10 and 11' lists two articles."""
        self.assertEqual(slugs("detailed in Articles 10 and 11."), ["art-10", "art-11"])

    def test_comma_lists_with_and_without_oxford_comma(self):
        """'Articles 3, 4 and 5' and 'Articles 3, 4, and 5' list three articles."""
        for paragraph in ("Articles 3, 4 and 5", "Articles 3, 4, and 5"):
            with self.subTest(paragraph=paragraph):
                self.assertEqual(texts(paragraph), [paragraph])
                self.assertEqual(slugs(paragraph), ["art-3", "art-4", "art-5"])

    def test_ampersand_and_abbreviated_plural(self):
        """'articles 1 & 2' and 'Arts. 3 and 4' are lists."""
        self.assertEqual(slugs("articles 1 & 2"), ["art-1", "art-2"])
        self.assertEqual(slugs("Arts. 3 and 4"), ["art-3", "art-4"])

    def test_mixed_list_and_range(self):
        """'Articles 3, 5–7 and 9' mixes single numbers and a range."""
        self.assertEqual(slugs("Articles 3, 5–7 and 9"), ["art-3", "art-5", "art-6", "art-7", "art-9"])

    def test_duplicates_removed(self):
        """A number listed twice appears once."""
        self.assertEqual(slugs("Articles 3, 3 and 4"), ["art-3", "art-4"])

    def test_list_stops_before_non_number(self):
        """'Articles 10 and 11. The parties' ends at '11'."""
        self.assertEqual(texts("in Articles 10 and 11. The parties"), ["Articles 10 and 11"])


class RomanNumeralTests(SimpleTestCase):
    def test_roman_numerals(self):
        """Upper-case Roman numerals are read: 'Article IV' is art-4, 'Article XXIII' art-23."""
        self.assertEqual(slugs("Article IV"), ["art-4"])
        self.assertEqual(slugs("Article XXIII"), ["art-23"])

    def test_roman_list_and_range(self):
        """'Articles II and III' and 'Articles IV–VI' work like Arabic lists."""
        self.assertEqual(slugs("Articles II and III"), ["art-2", "art-3"])
        self.assertEqual(slugs("Articles IV–VI"), ["art-4", "art-5", "art-6"])

    def test_lower_case_numeral_rejected(self):
        """'Article iv' is not a numeral (Roman numerals must be upper-case)."""
        self.assertEqual(find_references("Article iv"), [])

    def test_numeral_must_end_at_word_boundary(self):
        """'Article Ivan' and 'Article IVa' are not references."""
        self.assertEqual(find_references("Article Ivan wrote; Article IVa"), [])

    def test_lone_i_needs_capitalised_keyword(self):
        """'the article I wrote' is prose; 'Article I' is art-1."""
        self.assertEqual(find_references("the article I wrote last week"), [])
        self.assertEqual(slugs("Under Article I, the parties"), ["art-1"])

    def test_list_does_not_mix_kinds(self):
        """'Articles 4 and I think' stops at 4: a list does not switch to Roman numerals."""
        self.assertEqual(texts("Articles 4 and I think so"), ["Articles 4"])


class OurTreatyQualifierTests(SimpleTestCase):
    def test_of_the_treaty_accepted(self):
        """'of the treaty/Agreement/new treaty/this Treaty' names our treaty."""
        for paragraph in (
            "Article 4 of the treaty",
            "Article 4 of the Agreement",
            "article 4 of the new treaty",
            "Article 3 of this Treaty",
            "Article 3 of the present Treaty",
            "Article 3 of the 2024 treaty",
            "Article 3 of the comprehensive strategic partnership treaty",
            "Article 3 of the DPRK–Russia treaty",
            "Article 3 of the Treaty on Comprehensive Strategic Partnership",
            "Article 3 of the document",
            "Article 3 of the pact",
        ):
            with self.subTest(paragraph=paragraph):
                [ref] = find_references(paragraph)
                self.assertEqual(ref.text, paragraph.split(" of ")[0])

    def test_of_phrase_naming_nothing_is_harmless(self):
        """'Article 4 of course matters' keeps the reference."""
        self.assertEqual(slugs("Article 4 of course matters"), ["art-4"])

    def test_possessive_of_our_treaty_accepted(self):
        """"the treaty's Article 4" is accepted; "it's Article 4" is a contraction."""
        self.assertEqual(slugs("the treaty's Article 4"), ["art-4"])
        self.assertEqual(slugs("Yet it's Article 4 that made waves"), ["art-4"])


class FalseFriendTests(SimpleTestCase):
    def test_other_instruments_rejected(self):
        """References to the UN Charter, NATO, 1961 treaty, constitutions... produce nothing."""
        for paragraph in (
            "Article 51 of the UN Charter",
            "article 5 of the NATO treaty",
            "Article 5 of the North Atlantic Treaty",
            "Article 4 of the 1961 treaty",
            "Article 2 of the Charter",
            "article 1 of the Constitution",
            "Article 51 of the Charter of the United Nations",
            "Article 51 of the United Nations Charter",
            "Article 51 of the UN",
            "Article 1 of the United Nations",
            "Article 4 of the previous treaty",
            "Article 4 of the Treaty of Friendship, Cooperation and Mutual Assistance",
            "Article 4 of the Treaty on Friendship, Good-Neighborliness and Cooperation",
            "Article 4 of the treaty of 1961",
            "Article 4 of the treaty signed in 2000",
            "Article 6 of the International Covenant on Civil and Political Rights",
            "Article 2 of the Rome Statute",
            "Article 3 of the Geneva Conventions",
            "Articles 3 and 4 of the NATO treaty",
            "NATO's Article 5",
            "the 1961 treaty's Article 4",
            "UN Charter Article 51",
        ):
            with self.subTest(paragraph=paragraph):
                self.assertEqual(find_references(paragraph), [])

    def test_false_friend_next_to_real_reference(self):
        """Only the reference to our treaty survives when both appear."""
        paragraph = "in accordance with Article 51 of the UN Charter and Article 3 of the treaty"
        self.assertEqual(slugs(paragraph), ["art-3"])

    def test_plural_numbers_before_articles_are_not_references(self):
        """'The 23 articles of the agreement' and 'Subsequent articles list' are not references."""
        self.assertEqual(find_references("The 23 articles of the agreement briefly describe"), [])
        self.assertEqual(find_references("Subsequent articles list many areas"), [])

    def test_article_without_number(self):
        """'article' with no number is not a reference."""
        self.assertEqual(find_references("this article is perceived as aimed against"), [])


class PreambleTests(SimpleTestCase):
    def test_determined_preamble(self):
        """'the preamble', 'The Preamble', 'its preamble', "the treaty's preamble" are references."""
        for paragraph in (
            "in the preamble",
            "The Preamble reaffirms",
            "its preamble",
            "the treaty's preamble",
            "the new treaty's preamble",
            "the preamble of the treaty",
            "the preamble to the new agreement",
        ):
            with self.subTest(paragraph=paragraph):
                [ref] = find_references(paragraph)
                self.assertEqual(ref.provisions, ("preamble",))
                self.assertEqual(ref.text.lower(), "preamble")

    def test_other_preambles_rejected(self):
        """The preamble of the UN Charter (in any phrasing) is not ours."""
        for paragraph in (
            "the preamble of the UN Charter",
            "the preamble to the UN Charter",
            "the Charter's preamble",
            "the UN Charter preamble",
            "the preamble of the 1961 treaty",
        ):
            with self.subTest(paragraph=paragraph):
                self.assertEqual(find_references(paragraph), [])

    def test_indefinite_preamble_is_prose(self):
        """'as a preamble to the talks' uses the word in its ordinary sense."""
        self.assertEqual(find_references("as a preamble to the talks"), [])

    def test_preamble_kept_with_article_count(self):
        """article_count does not affect the preamble."""
        self.assertEqual(slugs("the preamble", article_count=0), ["preamble"])


class ArticleCountTests(SimpleTestCase):
    def test_numbers_above_count_dropped(self):
        """With article_count=23, 'Article 24' disappears and 'Article 23' stays."""
        self.assertEqual(slugs("Article 23 and Article 24", article_count=23), ["art-23"])

    def test_list_partially_dropped(self):
        """'Articles 22, 23 and 40' keeps only numbers within the count but the whole text."""
        [ref] = find_references("Articles 22, 23 and 40", article_count=23)
        self.assertEqual((ref.text, ref.provisions), ("Articles 22, 23 and 40", ("art-22", "art-23")))

    def test_no_count_keeps_everything(self):
        """Without article_count any number is kept."""
        self.assertEqual(slugs("Article 99"), ["art-99"])


class RealParagraphTests(SimpleTestCase):
    """Sentences taken verbatim from the commentary sources (so these run without the corpus)."""

    def test_004_un_charter_then_article_3(self):
        """004: 'Article 51 of the UN Charter' is ignored, 'Article 3 of the treaty' found."""
        paragraph = (
            "Second, assistance with all means must be provided in accordance with the legislation "
            "of the two countries and with Article 51 of the UN Charter, which permits individual "
            "or collective self-defense. Third, under Article 3 of the treaty, Pyongyang will first "
            "have to discuss any potentially drastic decision with Moscow."
        )
        self.assertEqual(slugs(paragraph), ["art-3"])

    def test_004_articles_18_to_20(self):
        """004: 'Articles 18–20 appear similarly important' is a range."""
        paragraph = (
            "Articles 18–20 appear similarly important, as they discuss the need to deepen "
            "understanding between the two nations."
        )
        self.assertEqual(slugs(paragraph), ["art-18", "art-19", "art-20"])

    def test_004_articles_10_and_11(self):
        """004: 'economic cooperation is detailed in Articles 10 and 11' lists two."""
        paragraph = (
            "For example, economic cooperation is detailed in Articles 10 and 11. The parties seek "
            "to make efforts to increase trade"
        )
        self.assertEqual(slugs(paragraph), ["art-10", "art-11"])

    def test_004_article_23_in_parentheses(self):
        """004: 'this new agreement is open-ended (Article 23)'."""
        paragraph = (
            "Second, this new agreement is open-ended (Article 23), which implies that the trend "
            "will persist at least in the short, if not medium, term."
        )
        self.assertEqual(slugs(paragraph), ["art-23"])

    def test_004_preamble_mentions(self):
        """004: 'the countries in the preamble reaffirm' and 'beyond the preamble.'"""
        self.assertEqual(
            slugs("On the one hand, the countries in the preamble reaffirm their “desire to defend "
                  "international justice against hegemonic aspirations"),
            ["preamble"],
        )
        self.assertEqual(
            slugs("This paragraph illustrates that respect for international organizations goes "
                  "beyond the preamble."),
            ["preamble"],
        )

    def test_004_article_4_quoting_un_charter(self):
        """004: Article 4 is found; the quoted 'Article 51 of the UN Charter' is not."""
        paragraph = (
            "Yet it is Article 4 that made waves in the Western media: “In the event that one of the "
            "Parties is subjected to an armed attack by an individual country or several countries "
            "and thus finds itself in a state of war, the other Party shall immediately provide "
            "military and other assistance with all means in its possession in accordance with "
            "Article 51 of the UN Charter and in accordance with the laws of the Democratic "
            "People’s Republic of Korea and the Russian Federation.”"
        )
        self.assertEqual(slugs(paragraph), ["art-4"])

    def test_004_articles_1_2_3(self):
        """004: three single references in one sentence pair."""
        paragraph = (
            "Article 1 outlines a relationship of comprehensive strategic partnership, while "
            "Article 2 defines the norms of communication. It also mentions the aspiration for "
            "global strategic stability and a new just world order. Article 3 adds further detail"
        )
        self.assertEqual(texts(paragraph), ["Article 1", "Article 2", "Article 3"])

    def test_003_article_4_after_1961_treaty(self):
        """003: 'the 1961 treaty, including Article 4 on ...' is our Article 4."""
        paragraph = (
            "the Russian president noted that there were no fundamentally new points in it and that "
            "the document was similar to the 1961 treaty, including Article 4 on ‘automatic military "
            "intervention’."
        )
        self.assertEqual(slugs(paragraph), ["art-4"])

    def test_003_agreement_versus_nato(self):
        """003: article 4 of the Agreement is kept, article 5 of the NATO treaty dropped."""
        paragraph = (
            "One more detail: on the one hand, article 4 of the Agreement is harsher than article 5 "
            "of the NATO treaty. On the other, it clearly indicates that a state of war is required "
            "for comprehensive assistance, and if we recall the 1961 treaty"
        )
        self.assertEqual(slugs(paragraph), ["art-4"])

    def test_000_article_4_and_article_8(self):
        """000: 'article 4 of the agreement states: ... and article 8 contains a hint'."""
        paragraph = (
            "Indeed, article 4 of the agreement states: “if one of the parties is subjected to an "
            "armed attack by any one state or several states and thus finds itself in a state of "
            "war, the other party will immediately provide military and other assistance with all "
            "means at its disposal” and article 8 contains a hint of possible joint military "
            "exercises or other similar events."
        )
        self.assertEqual(slugs(paragraph), ["art-4", "art-8"])

    def test_000_twenty_three_articles(self):
        """000: 'The 23 articles of the agreement' and 'the articles dealing with' are not references."""
        paragraph = (
            "The 23 articles of the agreement briefly describe all the main areas of cooperation. "
            "The author was particularly excited by the articles dealing with joint counteraction"
        )
        self.assertEqual(find_references(paragraph), [])


def corpus_paragraphs(path: Path) -> list[str]:
    """A raw source split on blank lines (whitespace-only lines count as blank), empties dropped."""
    return [p for p in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")) if p.strip()]


# Every explicit reference to the 2024 treaty in the five raw sources, found by reading them.
# Keys: (file prefix, paragraph index per corpus_paragraphs). Values: the references in reading
# order, as (text, slugs). Implicit mentions ("Subsequent articles", "the first one of these
# three", "The new agreement is open-ended") are not explicit references and are not listed.
HAND_CHECKED: dict[tuple[str, int], list[tuple[str, tuple[str, ...]]]] = {
    ("000", 19): [("article 4", ("art-4",)), ("article 8", ("art-8",))],
    # 001 (written before signing) and 002 cite no provisions.
    ("003", 25): [("Article 4", ("art-4",))],
    ("003", 27): [("article 4", ("art-4",))],  # not "article 5 of the NATO treaty"
    ("004", 4): [  # not "Article 51 of the UN Charter"
        ("Article 4", ("art-4",)), ("Article 4", ("art-4",)), ("Article 3", ("art-3",)),
    ],
    ("004", 6): [("Article 16", ("art-16",))],
    ("004", 7): [("Articles 18–20", ("art-18", "art-19", "art-20"))],
    ("004", 11): [("Article 23", ("art-23",))],
    ("004", 12): [("preamble", ("preamble",))],
    ("004", 13): [("Article 1", ("art-1",)), ("Article 2", ("art-2",)), ("Article 3", ("art-3",))],
    ("004", 14): [("Article 4", ("art-4",))],  # not the quoted "Article 51 of the UN Charter"
    ("004", 16): [("Article 4", ("art-4",)), ("Article 3", ("art-3",))],  # not Article 51
    ("004", 18): [("Article 5", ("art-5",))],
    ("004", 19): [("Article 6", ("art-6",)), ("Article 7", ("art-7",)), ("preamble", ("preamble",))],
    ("004", 20): [("Article 8", ("art-8",)), ("Articles 10 and 11", ("art-10", "art-11"))],
    ("004", 22): [("Article 14", ("art-14",)), ("Article 15", ("art-15",))],
    ("004", 23): [("Article 16", ("art-16",))],
    ("004", 26): [
        ("Article 17", ("art-17",)), ("Articles 18–20", ("art-18", "art-19", "art-20")),
        ("Article 19", ("art-19",)), ("Article 20", ("art-20",)),
    ],
}

EXPECTED_SLUGS: set[tuple[str, int, str]] = {
    (file, index, slug)
    for (file, index), refs in HAND_CHECKED.items()
    for _, provisions in refs
    for slug in provisions
}


@needs_shared(SOURCES)
class CorpusRecallTests(SimpleTestCase):
    """find_references against the hand-checked references of the five raw sources."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.found: dict[tuple[str, int], list[Reference]] = {}
        cls.paragraphs: dict[tuple[str, int], str] = {}
        for path in sorted(SOURCES.glob("[0-9][0-9][0-9]_*.txt")):
            for index, paragraph in enumerate(corpus_paragraphs(path)):
                key = (path.name[:3], index)
                cls.paragraphs[key] = paragraph
                refs = find_references(paragraph, article_count=ARTICLE_COUNT)
                if refs:
                    cls.found[key] = refs

    def test_all_five_sources_read(self):
        """The five raw sources are present and split into paragraphs."""
        self.assertEqual({file for file, _ in self.paragraphs}, {"000", "001", "002", "003", "004"})

    def test_slug_set_matches_hand_checked_set(self):
        """The (file, paragraph, slug) set found equals the hand-checked set: precision = recall = 1."""
        found = {(file, index, slug) for (file, index), refs in self.found.items()
                 for ref in refs for slug in ref.provisions}
        true_positives = found & EXPECTED_SLUGS
        precision = len(true_positives) / len(found) if found else 0.0
        recall = len(true_positives) / len(EXPECTED_SLUGS)
        self.assertEqual(
            found, EXPECTED_SLUGS,
            f"precision={precision:.3f} recall={recall:.3f} "
            f"missing={sorted(EXPECTED_SLUGS - found)} spurious={sorted(found - EXPECTED_SLUGS)}",
        )
        self.assertEqual((precision, recall), (1.0, 1.0))

    def test_each_occurrence_matches_hand_checked_list(self):
        """Every occurrence (text and slugs, in reading order) matches the hand-checked list."""
        found = {key: [(ref.text, ref.provisions) for ref in refs] for key, refs in self.found.items()}
        self.assertEqual(found, HAND_CHECKED)

    def test_texts_are_slices_of_their_paragraph(self):
        """Each reference's text is exactly paragraph[start:end], references in reading order."""
        for key, refs in self.found.items():
            paragraph = self.paragraphs[key]
            for ref in refs:
                self.assertEqual(paragraph[ref.start:ref.end], ref.text)
            self.assertEqual([ref.start for ref in refs], sorted(ref.start for ref in refs))

    def test_article_count_changes_nothing_in_corpus(self):
        """No reference in the sources exceeds 23, so article_count=None gives the same result."""
        for key, paragraph in self.paragraphs.items():
            self.assertEqual(
                find_references(paragraph), find_references(paragraph, article_count=ARTICLE_COUNT),
                key,
            )
