"""The re-anchoring benchmark: does an annotation land on the words a person would choose?

The cases (tests/reanchor_cases.py) carry their ground truth, written by hand. Every annotation
is re-placed with ``anchoring.locate`` and two figures are measured:

* of the annotations a person would place, the share placed (EXACT or FUZZY) on exactly the
  words the person chose: target at least 90 %;
* the number placed on any other words, a person's "I would not place it" included: target 0.

``pytest -s`` prints both, with every case not placed where a person would. The second target
is met and asserted. The first is not met yet (see ``test_share_meets_the_target``): it is
asserted as an expected failure, so that reaching it fails the suite until the marker goes, and
today's figure is held as a floor that a more timid change cannot slip under.

A second, rule-based check runs over the commentaries' captures: a sentence is deleted, and an
annotation on it (or on words inside it) whose words then occur nowhere in the capture must not
be placed anywhere. It is not part of the two figures, whose ground truth is all by hand.
"""

import random
import re
import unittest
from functools import cache

from django.test import SimpleTestCase

from annotations.anchoring import Placement, locate, quote_selector

from .reanchor_cases import CASES, CORPUS, Case

TARGET_SHARE = 0.90
FLOOR_SHARE = 0.83  # measured when the benchmark was written (85 of 102); raise it as placement improves
PLACED = (Placement.EXACT, Placement.FUZZY)


def nth_index(text: str, words: str, nth: int) -> int:
    start = -1
    for _ in range(nth + 1):
        start = text.index(words, start + 1)
    return start


def find_all(text: str, words: str) -> list[int]:
    found, at = [], text.find(words)
    while at != -1:
        found.append(at)
        at = text.find(words, at + 1)
    return found


def person_span(case: Case) -> tuple[int, int] | None:
    if case.person is None:
        return None
    start = nth_index(case.new, case.person, case.person_nth)
    return start, start + len(case.person)


def run(case: Case):
    start = nth_index(case.old, case.words, case.nth)
    selector = quote_selector(case.old, start, start + len(case.words))
    return locate(case.new, exact=selector.exact, prefix=selector.prefix, suffix=selector.suffix, start_hint=start)


@cache
def outcome():
    """(right, wrong, missed, share) over all cases, printed once."""
    right, wrong, missed = [], [], []
    offered = 0
    for case in CASES:
        expected, found = person_span(case), run(case)
        if found.placement in PLACED and (found.start, found.end) == expected:
            right.append(case)
        elif found.placement in PLACED:
            wrong.append((case, found))
        elif expected is not None:
            missed.append((case, found))
            offered += any((c.start, c.end) == expected for c in found.candidates)
    placeable = sum(case.person is not None for case in CASES)
    share = len(right) / placeable
    print(f"\nre-anchoring benchmark: {len(CASES)} cases, {placeable} that a person would place")
    print(f"  placed on exactly the person's words: {len(right)}/{placeable} = {share:.1%} (target ≥ {TARGET_SHARE:.0%})")
    print(f"  placed on other words: {len(wrong)} (target 0)")
    print(f"  not placed where a person would: {len(missed)}; the person's words among the candidates: {offered}")
    for case, found in missed:
        print(f"    {found.placement:8} {found.score:.2f}  {case.name}")
    for case, found in wrong:
        print(f"  WRONG {found.placement} {case.new[found.start:found.end]!r}  {case.name}")
    return right, wrong, missed, share


class GroundTruthTests(SimpleTestCase):
    def test_there_are_enough_cases_mostly_from_the_corpus(self):
        """At least 60 cases, most of them on the corpus's own wording, each named once."""
        self.assertGreaterEqual(len(CASES), 60)
        synthetic = [case for case in CASES if case.name.startswith("synthetic")]
        self.assertGreater(len(CASES) - len(synthetic), len(CASES) / 2)
        self.assertEqual(len({case.name for case in CASES}), len(CASES))

    def test_every_case_names_real_words(self):
        """The annotated words and the person's words stand in their wordings at the occurrence named."""
        for case in CASES:
            with self.subTest(case.name):
                self.assertGreater(len(find_all(case.old, case.words)), case.nth)
                if case.person is None:
                    self.assertTrue(case.why, "a case a person would not place says why")
                else:
                    self.assertGreater(len(find_all(case.new, case.person)), case.person_nth)

    def test_both_outcomes_occur(self):
        """The benchmark has annotations a person would place and at least ten a person would not."""
        placeable = [case for case in CASES if case.person is not None]
        self.assertGreater(len(placeable), len(CASES) / 2)
        self.assertGreaterEqual(len(CASES) - len(placeable), 10)


class ReanchorBenchmarkTests(SimpleTestCase):
    def test_no_annotation_lands_on_other_words(self):
        """Target 0: no annotation is placed on words other than the person's, nor where a person would not."""
        _, wrong, _, _ = outcome()
        self.assertEqual([(case.name, case.new[found.start : found.end]) for case, found in wrong], [])

    def test_share_does_not_fall_below_todays(self):
        """The share placed on exactly the person's words stays at or above the figure measured."""
        self.assertGreaterEqual(outcome()[3], FLOOR_SHARE)

    @unittest.expectedFailure
    def test_share_meets_the_target(self):
        """Target: at least 90 % placed on exactly the person's words. Not met: 83 %, the rest
        reworded renderings left DRIFTED (most with the person's words among the candidates)."""
        self.assertGreaterEqual(outcome()[3], TARGET_SHARE)


SENTENCE = re.compile(r"[^.!?\n]{20,300}[.!?]")


class AbsentWordsTests(SimpleTestCase):
    def test_words_deleted_with_their_sentence_are_never_placed(self):
        """Each sentence of captures 000-003 deleted in turn: annotations on it, or on words inside it,
        whose words then occur nowhere in the capture are not placed anywhere."""
        rng = random.Random(5)
        checked, placed = 0, []
        for path in sorted(CORPUS.glob("00[0-3]_*.txt")):
            text = path.read_text(encoding="utf-8")
            for sentence in SENTENCE.finditer(text):
                start, end = sentence.span()
                start += len(sentence.group()) - len(sentence.group().lstrip())
                words = list(re.finditer(r"\S+", text[start:end]))
                spans = [(start, end)]
                if len(words) > 6:
                    first = rng.randrange(len(words) - 3)
                    last = min(len(words), first + rng.randint(3, 12)) - 1
                    spans.append((start + words[first].start(), start + words[last].end()))
                new_text = text[:start] + text[end:]
                for span in spans:
                    selector = quote_selector(text, *span)
                    if selector.exact in new_text:
                        continue  # the words still stand elsewhere
                    checked += 1
                    found = locate(
                        new_text, exact=selector.exact, prefix=selector.prefix, suffix=selector.suffix,
                        start_hint=span[0],
                    )
                    if found.placement in PLACED:
                        placed.append((path.name, selector.exact, new_text[found.start : found.end]))
        print(f"\nabsent words: {checked} annotations whose words are gone, {len(placed)} placed anyway")
        self.assertGreater(checked, 300)
        self.assertEqual(placed, [])
