"""Tests for treaty_app.cleaning: chrome removal from captured commentary pages."""

from __future__ import annotations

import json
import unicodedata

from django.test import SimpleTestCase

from treaty_app.cleaning import body_from_paragraphs, clean_capture

from .shared import SOURCES, needs_shared


# Two prose paragraphs and a content heading used as the article in synthetic captures.
P1 = (
    "The treaty was signed in Pyongyang on 19 June 2024 and contains a preamble and twenty-three "
    "articles covering politics, economy, security and culture."
)
HEADING = "Military cooperation"
P2 = (
    "Article 4 obliges each party to provide “military and other assistance” – immediately – if "
    "the other finds itself in a state of war."
)


def _capture(*lines: str) -> str:
    """A capture with one paragraph per line and blank lines between them."""
    return "\n\n".join(lines)


class NormalisationTests(SimpleTestCase):
    def test_crlf_and_lone_cr_split_paragraphs(self) -> None:
        """CRLF and lone CR line endings are treated as line breaks."""
        self.assertEqual(clean_capture(f"{P1}\r\n\r\n{HEADING}\r{P2}\r\n"), [P1, HEADING, P2])

    def test_nbsp_and_tabs_collapse_to_one_space(self) -> None:
        """Runs of spaces, tabs and non-breaking spaces inside a line become one space."""
        raw = "  The\u00a0treaty \t\u00a0 entered   into force\u202fon 4 December 2024.\u00a0 "
        self.assertEqual(clean_capture(raw), ["The treaty entered into force on 4 December 2024."])

    def test_whitespace_only_lines_dropped(self) -> None:
        """Blank lines, a lone non-breaking space and a lone tab produce no paragraph."""
        raw = f"{P1}\n\u00a0\n\t\n   \n\u00a0 \u00a0\n{P2}"
        self.assertEqual(clean_capture(raw), [P1, P2])

    def test_single_line_breaks_separate_paragraphs(self) -> None:
        """Every non-empty line is its own paragraph, blank line or not."""
        self.assertEqual(clean_capture(f"{P1}\n{HEADING}\n{P2}"), [P1, HEADING, P2])

    def test_unicode_normalised_to_nfc(self) -> None:
        """Decomposed characters are composed (NFC)."""
        decomposed = unicodedata.normalize("NFD", "Tête-à-tête talks lasted five hours.")
        self.assertEqual(clean_capture(decomposed), ["Tête-à-tête talks lasted five hours."])

    def test_typographic_characters_preserved(self) -> None:
        """Curly quotes, dashes and guillemets are kept exactly as captured."""
        line = "He said “jumped several steps” – ‘a whole flight’ — «stairs»… Articles 18–20."
        self.assertEqual(clean_capture(line), [line])

    def test_empty_capture(self) -> None:
        """An empty or blank capture yields no paragraphs."""
        self.assertEqual(clean_capture(""), [])
        self.assertEqual(clean_capture(" \n\u00a0\r\n"), [])


class WidgetChromeTests(SimpleTestCase):
    def test_language_switchers_removed(self) -> None:
        """Language switcher lines are removed."""
        for widget in ("EN|FR|RU", "EN | FR | RU", "Читать на русском", "Read in Russian"):
            with self.subTest(widget=widget):
                self.assertEqual(clean_capture(_capture(widget, P1, P2)), [P1, P2])

    def test_follow_and_share_widgets_removed(self) -> None:
        """Follow/share/send widget lines are removed."""
        for widget in ("Follow us on:", "Send to", "Share this article", "Share"):
            with self.subTest(widget=widget):
                self.assertEqual(clean_capture(_capture(widget, P1, P2)), [P1, P2])

    def test_rating_widgets_removed(self) -> None:
        """Rating and vote widgets are removed wherever they appear."""
        raw = _capture(
            "Rate this article", "(votes: 3, rating: 5)", "\u00a0(3 votes)", P1, "(1 vote)", P2
        )
        self.assertEqual(clean_capture(raw), [P1, P2])

    def test_photo_captions_removed(self) -> None:
        """Lines ending in a parenthesised photo credit are removed."""
        caption = (
            "Russian President Vladimir Putin (right) and North Korea's leader Kim Jong Un (L) "
            "shaking hands on September 13, 2023. (Pool Photo via AFP)"
        )
        raw = _capture(P1, caption, "A bridge over the Tumen River (Getty Images)", P2)
        self.assertEqual(clean_capture(raw), [P1, P2])

    def test_parenthesis_in_sentence_kept(self) -> None:
        """A sentence with a parenthesis, even about photos, is not a caption."""
        line = "The ministry published the text (and several photos of the ceremony)."
        self.assertEqual(clean_capture(_capture(P1, line)), [P1, line])

    def test_sentences_mentioning_share_or_poll_kept(self) -> None:
        """Lines that merely mention "share", "poll" or "follow us" inside a sentence are kept."""
        lines = [
            "Experts in Seoul shared the view that isolation heightened the need for partnership.",
            "Share this view or not, the treaty changes the security architecture.",
            "A poll conducted in Seoul in July showed most respondents were concerned.",
            "Read more about the treaty in the official gazette, the author advises.",
            "For business, the treaty promises free economic zones such as Rason.",
            "Follow us on this journey through the twenty-three articles of the treaty.",
        ]
        self.assertEqual(clean_capture(_capture(P1, *lines, P2)), [P1, *lines, P2])

    def test_content_headings_kept(self) -> None:
        """Short content headings inside the article are kept."""
        headings = ["Military cooperation", "Seoul’s response\u00a0", "Chinas position"]
        raw = _capture(P1, headings[0], P2, headings[1], P1, headings[2], P2)
        self.assertEqual(
            clean_capture(raw),
            [P1, "Military cooperation", P2, "Seoul’s response", P1, "Chinas position", P2],
        )


class TailChromeTests(SimpleTestCase):
    def test_related_lists_cut_to_end(self) -> None:
        """Everything from a related-articles heading to the end is removed."""
        for marker in ("More on this topic", "Related articles", "Read more", "Related articles:"):
            with self.subTest(marker=marker):
                raw = _capture(P1, P2, marker, "NATO has Declared War on Russia: Will it succeed?", P1)
                self.assertEqual(clean_capture(raw), [P1, P2])

    def test_poll_cut_to_end(self) -> None:
        """Everything from "Poll conducted" to the end is removed."""
        raw = "\n".join(
            [P1, P2, "Poll conducted", "  1. In your opinion, what are the US goals?", "    \u00a033 (31%)"]
        )
        self.assertEqual(clean_capture(raw), [P1, P2])

    def test_trailing_footer_links_removed(self) -> None:
        """Footer links left at the very end are removed."""
        raw = "\n".join([P1, P2, "For business", "For researchers", "For students"])
        self.assertEqual(clean_capture(raw), [P1, P2])

    def test_tail_marker_before_any_prose_does_not_cut(self) -> None:
        """A tail marker at the top, before any prose, does not swallow the article."""
        self.assertEqual(clean_capture(_capture("Read more", P1, P2)), ["Read more", P1, P2])


class HeaderTests(SimpleTestCase):
    def test_title_line_removed_when_equal_to_title(self) -> None:
        """Leading title lines equal to `title` are removed, ignoring quote style and case."""
        raw = _capture("Highlights of Vladimir Putin’s visit to DPRK", P1, P2)
        self.assertEqual(clean_capture(raw, title="Highlights of Vladimir Putin's visit to DPRK"), [P1, P2])
        self.assertEqual(clean_capture(raw, title="HIGHLIGHTS of Vladimir Putin’s Visit to DPRK"), [P1, P2])

    def test_title_line_kept_without_or_with_other_title(self) -> None:
        """Without a byline, a first line that is not the given title is kept."""
        raw = _capture("Highlights of the visit", P1)
        self.assertEqual(clean_capture(raw), ["Highlights of the visit", P1])
        self.assertEqual(clean_capture(raw, title="Something else"), ["Highlights of the visit", P1])

    def test_byline_forms_removed(self) -> None:
        """The byline is removed in each form the outlets use."""
        for byline in (
            "Konstantin Asmolov, June 26",
            "Abbas Hashemite, July 07",
            "Konstantin Asmolov, July 12, 2024",
            "June 18, 2024 - 16:20 By Ji Da-gyum",
            "By Ji Da-gyum",
        ):
            with self.subTest(byline=byline):
                self.assertEqual(clean_capture(_capture("Some page title", byline, P1, P2)), [P1, P2])

    def test_deck_before_byline_removed(self) -> None:
        """Title and deck/standfirst lines above the byline are removed."""
        raw = _capture(
            "Putin's state visit to North Korea sets stage for elevated ties",
            "Putin says his trip aims to broaden partnership, fortify unity against 'rules-based order'",
            "June 18, 2024 - 16:20 By Ji Da-gyum",
            P1,
        )
        title = "Putin's state visit to North Korea sets stage for elevated ties"
        self.assertEqual(clean_capture(raw, title=title), [P1])

    def test_kicker_after_byline_removed(self) -> None:
        """The short kicker or repeated title right after the byline is removed."""
        kickers = ("Vladimir Putin’s visit to DPRK", "Putin in North Korea", "Significance of Putin’s Visit")
        for kicker in kickers:
            with self.subTest(kicker=kicker):
                raw = _capture("Significance of Putin’s Visit", "Abbas Hashemite, July 07", kicker, P1, P2)
                self.assertEqual(clean_capture(raw, title="Significance of Putin's Visit"), [P1, P2])

    def test_prose_after_byline_kept(self) -> None:
        """A sentence right after the byline is article text, not a kicker."""
        sentence = "The visit was short."
        raw = _capture("Konstantin Asmolov, June 26", sentence, P1)
        self.assertEqual(clean_capture(raw), [sentence, P1])

    def test_date_in_long_paragraph_is_not_a_byline(self) -> None:
        """A paragraph containing a name and a date is not mistaken for a byline."""
        line = "Vladimir Putin, June 19, 2024, signed the treaty in Pyongyang after long talks."
        self.assertEqual(clean_capture(_capture(line, P1)), [line, P1])


class BioTests(SimpleTestCase):
    def test_trailing_bio_with_credentials_removed(self) -> None:
        """A final "Name, credentials, exclusively for ..." paragraph is removed."""
        bio = (
            "Konstantin Asmolov, PhD in History, Leading Research Fellow at the Korean Studies Center, "
            "exclusively for “New Eastern Outlook”"
        )
        raw = _capture(P1, P2, "\u00a0", bio)
        self.assertEqual(clean_capture(raw, author="Konstantin Asmolov"), [P1, P2])

    def test_trailing_bio_with_dash_removed(self) -> None:
        """A final "Name – is a political observer ..." paragraph is removed, also without `author`."""
        bio = (
            "Abbas Hashemite – is a political observer and research analyst, exclusively\u00a0for "
            "“New Eastern Outlook”."
        )
        self.assertEqual(clean_capture(_capture(P1, P2, bio), author="Abbas Hashemite"), [P1, P2])
        self.assertEqual(clean_capture(_capture(P1, P2, bio)), [P1, P2])

    def test_leading_name_and_credentials_removed(self) -> None:
        """The author's name alone at the top followed by a credentials line is removed."""
        raw = "\n".join(
            [
                "Konstantin Asmolov",
                "",
                "Leading Research Fellow at the Korean Studies Center, RAS Institute for Far Eastern "
                "Studies, RIAC expert",
                P1,
                P2,
            ]
        )
        self.assertEqual(clean_capture(raw, author="Konstantin Asmolov"), [P1, P2])

    def test_paragraph_opening_with_author_name_kept(self) -> None:
        """A body paragraph that starts with the author's name is not a bio."""
        line = "Konstantin Asmolov argued in 2023 that the experts underestimated the treaty."
        self.assertEqual(clean_capture(_capture(P1, line), author="Konstantin Asmolov"), [P1, line])

    def test_quoted_expert_in_last_paragraph_kept(self) -> None:
        """A final paragraph quoting a named researcher is article text, not a bio."""
        line = (
            "Fyodor Tertitskiy, a senior researcher at Kookmin University, suggested that the Kremlin "
            "keeps strategic ambiguity on purpose, which he said was aimed at South Korea and Japan, "
            "and that Seoul should read the final text carefully before it reacts to the treaty in any "
            "way, because the wording of Article 4 differs from the 1961 treaty in several places that "
            "matter for the alliance."
        )
        self.assertEqual(clean_capture(_capture(P1, line), author="Ji Da-gyum"), [P1, line])


class BodyTests(SimpleTestCase):
    def test_body_joins_with_blank_line(self) -> None:
        """The canonical body joins paragraphs with exactly one blank line."""
        self.assertEqual(body_from_paragraphs([P1, HEADING, P2]), f"{P1}\n\n{HEADING}\n\n{P2}")

    def test_body_of_nothing_is_empty(self) -> None:
        """No paragraphs give an empty body."""
        self.assertEqual(body_from_paragraphs([]), "")

    def test_synthetic_page_round_trip(self) -> None:
        """A full synthetic page with every chrome kind cleans to the article alone."""
        raw = "\r\n".join(
            [
                "EN|FR|RU",
                "Follow us on:",
                "",
                "Highlights of the visit",
                "",
                "Konstantin Asmolov, June 26",
                "",
                "Visit to DPRK",
                "",
                P1,
                "Russian President and the Chairman at the airport on June 19. (Pool Photo via AFP)",
                HEADING,
                P2,
                "\u00a0",
                "Konstantin Asmolov, PhD in History, exclusively for “New Eastern Outlook”",
                "",
                "More on this topic",
                "Something else entirely",
                "For business",
            ]
        )
        paragraphs = clean_capture(raw, title="Highlights of the visit", author="Konstantin Asmolov")
        self.assertEqual(body_from_paragraphs(paragraphs), f"{P1}\n\n{HEADING}\n\n{P2}")


# Strings that are chrome on the real pages; none may survive in any cleaned body.
REAL_CHROME = (
    "EN|FR|RU",
    "Follow us on",
    "Send to",
    "Share this article",
    "Читать",
    "Rate this article",
    "votes",
    "rating:",
    "(Pool Photo via",
    "More on this topic",
    "NATO has Declared War on Russia",
    "Poll conducted",
    "U.S. wants to dissolve Russia",
    "For business",
    "For researchers",
    "For students",
    "PhD in History",
    "exclusively",
    "New Eastern Outlook",
    "RIAC expert",
)


@needs_shared(SOURCES)
class RealCaptureTests(SimpleTestCase):
    """The five real captures in ../shared/sources, with counts checked by hand."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        meta = json.loads((SOURCES / "sources.json").read_text(encoding="utf-8"))
        cls.meta = {entry["file"][:3]: entry for entry in meta["sources"]}

    def _raw(self, key: str) -> str:
        return (SOURCES / self.meta[key]["file"]).read_text(encoding="utf-8")

    def _clean(self, key: str) -> list[str]:
        entry = self.meta[key]
        return clean_capture(self._raw(key), title=entry["title"], author=entry["author"])

    def _check(self, key: str, *, count: int, first: str, last: str, headings: tuple[str, ...] = ()) -> None:
        paragraphs = self._clean(key)
        self.assertEqual(len(paragraphs), count)
        self.assertEqual(paragraphs[0], first)
        self.assertEqual(paragraphs[-1], last)
        for heading in headings:
            self.assertIn(heading, paragraphs)
        body = body_from_paragraphs(paragraphs)
        for chrome in REAL_CHROME:
            self.assertNotIn(chrome, body)

    def test_000_neo_highlights(self) -> None:
        """000: chrome, title, byline, kicker and bio go; 19 paragraphs with 4 headings stay."""
        self._check(
            "000",
            count=19,
            first=(
                "On June 18-19, 2024, Russian President Vladimir Putin visit North Korea at the invitation "
                "of Supreme Leader and friend Kim Jong Un. The visit was a landmark event not only for "
                "bilateral relations, but perhaps even for the entire existing security architecture."
            ),
            last=(
                "Thus, the Russian president’s visit to the DPRK was not just an expression of political "
                "and diplomatic support or a gesture indicating that ‘now the two rogue countries are "
                "really working together’. This is the beginning of new processes defining the contours of "
                "a new global security architecture, which is evident not only judging by the hysterical "
                "reaction of the Collective West, but also by the retaliatory steps that are beginning to "
                "be taken."
            ),
            headings=(
                "Agreement on cooperation in healthcare, education and science",
                "Russia and DPRK will be connected via highway",
                "Russia and DPRK deepen relations",
                "Military cooperation",
            ),
        )
        self.assertNotIn("Vladimir Putin’s visit to DPRK", self._clean("000"))

    def test_000_nbsp_inside_paragraph_collapsed(self) -> None:
        """000: the NBSP after "global warming." becomes a single space."""
        body = body_from_paragraphs(self._clean("000"))
        self.assertIn("global warming. Considering", body)
        self.assertNotIn("\u00a0", body)

    def test_001_korea_herald(self) -> None:
        """001: share widget, title, deck, byline and three photo captions go; 28 paragraphs stay."""
        self._check(
            "001",
            count=28,
            first=(
                'The leaders of Russia and North Korea are set to sign a "treaty on a comprehensive '
                'strategic partnership" that could elevate the bilateral ties to a new level possibly in '
                "the fields of military, technology and economy upon President Vladimir Putin's visit to "
                "North Korea for the first time in 24 years on Wednesday."
            ),
            last=(
                '"I would say that the chance of a revival of a mutual defense treaty is low. Russia would '
                "gain little from such an agreement and it would hurt its relationship with Seoul "
                'enormously."'
            ),
        )
        body = body_from_paragraphs(self._clean("001"))
        self.assertNotIn("Putin says his trip aims", body)
        self.assertIn("Experts in Seoul shared the view", body)

    def test_002_neo_significance(self) -> None:
        """002: chrome, title, byline, repeated title and bio go; 9 paragraphs with 2 headings stay."""
        self._check(
            "002",
            count=9,
            first=(
                "Russian President Vladimir Putin visited Pyongyang last month on a two-day visit. This was "
                "the first visit of the Russian President to North Korea in 24 years. Historically, the two "
                "sides saw ups and downs in their relations. However, since the commencement of the "
                "Russia-Ukraine conflict, Moscow and Pyongyang have seen an improvement in their bilateral "
                "relations. The recent visit of President Putin holds immense significance for global "
                "power politics due to the defense pact signed between the two countries."
            ),
            last=(
                "The United States and other Western states are highly concerned over this security "
                "agreement. This pact jeopardizes the Western interests in the Korean peninsula. The US "
                "State Department has warned that this move could destabilize the Korean peninsula and "
                "stated that it is “incredibly concerned” over this security agreement. The US Secretary of "
                "State, Antony Blinken, hinted at serious measures by the United States in response to the "
                "security agreement between the two countries. Seoul summoned the Russian ambassador and "
                "threatened to arm Ukraine in response to this security agreement. However, the Russian "
                "ambassador, Georgy Zinoviev, declared all the attempts to threaten and blackmail Russia "
                "unacceptable. Despite serious threats from the West and South Korea, Russia, under the "
                "brave leadership of President Putin, has decided to continue strengthening its relations "
                "with Vietnam and North Korea. Although the West’s response to this strengthening of ties "
                "between the sanctioned states could be highly offensive, this will help open new venues "
                "for developing nations. The Third World now has novel opportunities for trade and "
                "cooperation under the leadership of Russia and BRICS nations."
            ),
            headings=("Fluctuating Relations and Recent Improvements", "Strategic and Economic Implications"),
        )
        self.assertNotIn("Significance of Putin’s Visit to North Korea", self._clean("002"))

    def test_003_neo_consequences(self) -> None:
        """003: chrome, title, byline, kicker and bio go; 31 paragraphs with 4 headings stay."""
        self._check(
            "003",
            count=31,
            first=(
                "The consequences of the visit of the Russian leader to North Korea and the documents "
                "signed there are so significant that they can propel the trend of global turbulence. How "
                "have Seoul, Beijing and Washington reacted to such a rapprochement between Moscow and "
                "Pyongyang and what will be Moscow’s response to the steps taken by Seoul and its allies?"
            ),
            last=(
                "Summa summarum, there is a lot of uncertainty in the future and the situation is similar "
                "to that described in the book ‘The Guns of August’ by Barbara Tuchman: nobody wanted war, "
                "so war was inevitable. However, it cannot be said that the visit of the President of the "
                "Russian Federation to the DPRK has significantly aggravated the situation."
            ),
            headings=(
                "Seoul’s response",
                "Chinas position",
                "A ‘bloc’ as a limiting factor",
                "The fate of UNSC sanctions",
            ),
        )
        self.assertNotIn("Putin in North Korea", self._clean("003"))

    def test_004_riac(self) -> None:
        """004: widgets, leading bio, poll and footer go; 27 paragraphs (short + full version) stay."""
        self._check(
            "004",
            count=27,
            first=(
                "Russian President Vladimir Putin’s visit to North Korea was an important milestone not "
                "only in terms of bilateral relations, but it was also the next step toward transforming "
                "the global security architecture. One can speak of a self-fulfilling prophecy: in response "
                "to pressure from the collective West, Moscow and Pyongyang are ready to join their hands, "
                "and what they had previously been groundlessly accused of for the sake of justifying the "
                "Washington—Tokyo—Seoul alliance is now becoming a reality."
            ),
            last=(
                "Thus, this visit cannot be described as a ceremonial event for the sole purpose of "
                "expressing diplomatic support or “sending a signal to the West.” Russia and North Korea "
                "are ready to cooperate in earnest, and it is no coincidence that the 2024 treaty is "
                "compared to its 1961 precursor, much of whose phrasing was reiterated in the new text. "
                "That is why, in the author’s opinion, the treaty discussed here is a “stab” at long-term "
                "sectoral cooperation, while its military and political component should become an "
                "additional factor of preventing an armed conflict on the Korean Peninsula."
            ),
        )
        self.assertNotIn("Konstantin Asmolov", self._clean("004"))

    def test_004_repeated_paragraphs_kept(self) -> None:
        """004: a paragraph shared by the short and the full version is kept twice."""
        paragraphs = self._clean("004")
        repeated = [p for p in paragraphs if p.startswith("This stands in stark contrast")]
        self.assertEqual(len(repeated), 2)
        self.assertEqual(repeated[0], repeated[1])

    def test_every_kept_paragraph_is_a_captured_line(self) -> None:
        """Nothing is invented: each kept paragraph is a whitespace-normalised line of the capture."""
        for key in self.meta:
            with self.subTest(source=key):
                lines = {" ".join(line.split()) for line in self._raw(key).splitlines()}
                for paragraph in self._clean(key):
                    self.assertIn(paragraph, lines)

    def test_no_long_prose_line_lost(self) -> None:
        """Every captured line of 40+ words, bios aside, survives cleaning."""
        for key, entry in self.meta.items():
            with self.subTest(source=key):
                kept = set(self._clean(key))
                for line in self._raw(key).splitlines():
                    normalised = " ".join(line.split())
                    if len(normalised.split()) >= 40 and not normalised.startswith(entry["author"]):
                        self.assertIn(normalised, kept)

    def test_crlf_capture_cleans_identically(self) -> None:
        """A real capture saved with CRLF line endings cleans to the same paragraphs."""
        for key, entry in self.meta.items():
            with self.subTest(source=key):
                crlf = self._raw(key).replace("\n", "\r\n")
                self.assertEqual(
                    clean_capture(crlf, title=entry["title"], author=entry["author"]), self._clean(key)
                )
