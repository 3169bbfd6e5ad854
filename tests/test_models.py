from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.test import TestCase

from treaty_app.models import Excerpt, ExcerptLink, Provision, QuotedPassage

from .factories import link, make_excerpt, make_provision, make_source, make_treaty


class ProvisionConstraintTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty()
        cls.article = make_provision(cls.treaty, number=4)

    def assertRejected(self, **fields):
        with self.assertRaises(IntegrityError), transaction.atomic():
            Provision.objects.create(treaty=self.treaty, **fields)

    def test_slug_is_unique_per_treaty(self):
        """Two provisions of one treaty cannot share a slug."""
        self.assertRejected(kind="article", number=5, position=5, slug="art-4")

    def test_same_slug_in_another_treaty_is_fine(self):
        """Slugs are unique per treaty, not across treaties."""
        make_provision(make_treaty(), number=4)

    def test_position_is_unique_per_treaty(self):
        """Two provisions cannot stand at the same place in the reading order."""
        self.assertRejected(kind="article", number=5, position=4, slug="art-5")

    def test_article_number_is_unique_per_treaty(self):
        """A treaty cannot have two articles with the same number."""
        self.assertRejected(kind="article", number=4, position=9, slug="art-4-bis")

    def test_article_needs_a_number(self):
        """An article without a number is refused by the database."""
        self.assertRejected(kind="article", number=None, position=9, slug="art-x")

    def test_preamble_has_no_number(self):
        """A preamble with an article number is refused by the database."""
        self.assertRejected(kind="preamble", number=9, position=9, slug="preamble")

    def test_wording_only_when_coverage_says_it_is_held(self):
        """A provision marked summary or none cannot carry wording."""
        self.assertRejected(kind="article", number=6, position=6, slug="art-6", coverage="summary", text="Words.")

    def test_label(self):
        """Articles read “Article N”, the preamble “Preamble”."""
        self.assertEqual(str(self.article), "Article 4")
        self.assertEqual(str(make_provision(self.treaty)), "Preamble")


class ExcerptConstraintTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.source = make_source("First paragraph.\n\nSecond paragraph.")

    def test_offsets_must_match_the_text_length(self):
        """The database refuses an excerpt whose offsets do not span its text."""
        with self.assertRaises(IntegrityError), transaction.atomic():
            Excerpt.objects.create(source=self.source, start=0, end=3, text="First paragraph.")

    def test_empty_span_is_refused(self):
        """An excerpt must cover at least one character."""
        with self.assertRaises(IntegrityError), transaction.atomic():
            Excerpt.objects.create(source=self.source, start=5, end=5, text="")

    def test_same_text_twice_is_refused(self):
        """A repeated paragraph cannot become a second excerpt of the same source."""
        make_excerpt(self.source, 0, 16)
        with self.assertRaises(IntegrityError), transaction.atomic():
            Excerpt.objects.create(source=self.source, start=18, end=34, text="First paragraph.")

    def test_offsets_must_lie_inside_the_body(self):
        """The database refuses an excerpt or a quoted passage that ends past its source's body."""
        body_length = len(self.source.body)
        with self.assertRaises((IntegrityError, DatabaseError)), transaction.atomic():
            Excerpt.objects.create(source=self.source, start=body_length, end=body_length + 3, text="abc")
        provision = make_provision(number=3, text="abc")
        with self.assertRaises((IntegrityError, DatabaseError)), transaction.atomic():
            QuotedPassage.objects.create(provision=provision, source=self.source, position=0, text="abc",
                                         source_start=body_length, source_end=body_length + 3)
        make_excerpt(self.source, body_length - 10, body_length)

    def test_clean_checks_the_text_against_the_source(self):
        """full_clean reports an excerpt whose text is not the source's text at its offsets."""
        excerpt = Excerpt(source=self.source, start=0, end=6, text="Second")
        with self.assertRaises(ValidationError) as caught:
            excerpt.full_clean()
        self.assertEqual(caught.exception.error_dict["__all__"][0].code, "mismatch")

    def test_one_link_per_excerpt_and_provision(self):
        """An excerpt is linked to a provision at most once."""
        excerpt = make_excerpt(self.source, 0, 16)
        provision = make_provision(number=1)
        link(excerpt, provision)
        with self.assertRaises(IntegrityError), transaction.atomic():
            link(excerpt, provision)

    def test_explicit_link_records_its_reference(self):
        """An explicit link must say which words named the provision."""
        excerpt = make_excerpt(self.source, 0, 16)
        with self.assertRaises(IntegrityError), transaction.atomic():
            link(excerpt, make_provision(number=1), method=ExcerptLink.Method.EXPLICIT, reference="")

    def test_quoted_passage_offsets_match_its_text(self):
        """A quoted passage's offsets must span exactly its text."""
        provision = make_provision(number=2, text="Second paragraph.")
        with self.assertRaises(IntegrityError), transaction.atomic():
            QuotedPassage.objects.create(
                provision=provision, source=self.source, position=0, text="Second paragraph.",
                source_start=18, source_end=20,
            )


class RepliesReadableByTests(TestCase):
    def test_it_is_readable_by_s_replies_for_every_reader(self):
        """replies_readable_by(user, readable parents) is exactly readable_by's replies to them, for
        every kind of reader and every state of parent and reply."""
        from itertools import product

        from django.contrib.auth.models import AnonymousUser
        from django.utils import timezone

        from annotations.models import Annotation

        from .factories import annotation_row, make_user

        provision = make_provision(text="The Parties shall consult each other.", number=1)
        ana, bob = make_user("ana"), make_user("bob")
        curator = make_user("cora", role="Curators", is_staff=True)
        outsider = make_user("olga", role=None)
        states = list(product(["public", "team", "private"], [ana, bob], [None, "deleted", "hidden"]))
        for (visibility, author, removed), (reply_visibility, reply_author, reply_removed) in product(states, states):
            gone = {f"{removed}_at": timezone.now()} if removed else {}
            parent = annotation_row(provision=provision, author=author, visibility=visibility, body="A note.",
                                    exact="consult", start=14, end=21, **gone)
            reply_gone = {f"{reply_removed}_at": timezone.now()} if reply_removed else {}
            annotation_row(parent=parent, author=reply_author, visibility=reply_visibility, body="A reply.",
                           **reply_gone)
        for reader in (AnonymousUser(), ana, bob, curator, outsider):
            with self.subTest(reader=str(reader)):
                readable = Annotation.objects.readable_by(reader)
                expected = set(readable.filter(parent__in=readable.roots()).values_list("pk", flat=True))
                found = set(Annotation.objects.replies_readable_by(reader, readable.roots()).values_list("pk", flat=True))
                self.assertEqual(found, expected)
                self.assertTrue(expected)  # every reader reads some reply here


class ReadableRootsTests(TestCase):
    def test_the_roots_rule_is_the_rule_s_roots_for_every_reader(self):
        """readable_by(user, roots=True) is exactly readable_by(user).roots(), with and without
        `removed`, for every kind of reader and every state of note and reply (published() alike)."""
        from itertools import product

        from django.contrib.auth.models import AnonymousUser
        from django.utils import timezone

        from annotations.models import Annotation

        from .factories import annotation_row, make_user

        provision = make_provision(text="The Parties shall consult each other.", number=1)
        ana, bob = make_user("ana"), make_user("bob")
        curator = make_user("cora", role="Curators", is_staff=True)
        outsider = make_user("olga", role=None)
        for visibility, author, removed in product(["public", "team", "private"], [ana, bob], [None, "deleted", "hidden"]):
            gone = {f"{removed}_at": timezone.now()} if removed else {}
            parent = annotation_row(provision=provision, author=author, visibility=visibility, body="A note.",
                                    exact="consult", start=14, end=21, **gone)
            annotation_row(parent=parent, author=author, visibility=visibility, body="A reply.")
        for reader, removed in product((AnonymousUser(), ana, bob, curator, outsider), (False, True)):
            with self.subTest(reader=str(reader), removed=removed):
                rule = Annotation.objects.readable_by(reader, removed=removed)
                expected = set(rule.roots().values_list("pk", flat=True))
                found = set(Annotation.objects.readable_by(reader, removed=removed, roots=True)
                            .values_list("pk", flat=True))
                self.assertEqual(found, expected)
                self.assertTrue(expected)  # every reader reads some note here
                self.assertFalse(found & set(rule.filter(parent__isnull=False).values_list("pk", flat=True)))
        self.assertEqual(set(Annotation.objects.published(roots=True)), set(Annotation.objects.published().roots()))
