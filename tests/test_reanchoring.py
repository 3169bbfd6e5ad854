from django.test import TestCase

from annotations.models import Annotation
from treaty_app.treaty_text import import_treaty

from .factories import make_annotation, make_provision, make_treaty, make_user

OLD = (
    "In the event that one of the Parties is subjected to an armed attack by an individual country or several "
    "countries and thus finds itself in a state of war, the other Party shall immediately provide military and "
    "other assistance with all means in its possession in accordance with Article 51 of the UN Charter."
)
# A test edit: a clause inserted before the quotes, one word changed inside one quote ("shall" → "will"),
# one passage deleted outright.
NEW = (
    "In the event that one of the Parties, or both of them, is subjected to an armed attack by an individual country "
    "or several countries and thus finds itself in a state of war, the other Party will immediately provide military "
    "and other assistance with all means in its possession."
)
SPANS = {
    "exact": "and thus finds itself in a state of war",
    "fuzzy": "the other Party shall immediately provide military",
    "orphan": "in accordance with Article 51 of the UN Charter",
}


class ReanchorOnImportTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t", short_title="T")
        cls.provision = make_provision(cls.treaty, number=4, text=OLD)
        cls.author = make_user("ana")
        cls.annotations = {}
        for name, quote in SPANS.items():
            start = OLD.index(quote)
            cls.annotations[name] = make_annotation(cls.provision, cls.author, start, start + len(quote))

    def test_small_edits_keep_annotations_on_their_words(self):
        """After a re-import: exact quotes move with the text, edited ones follow fuzzily, deleted ones are orphaned."""
        report = import_treaty(f"Article 4\n{NEW}\n", treaty=self.treaty)
        placed = {name: Annotation.objects.get(pk=a.pk) for name, a in self.annotations.items()}
        self.assertEqual(placed["exact"].placement, "anchored")
        self.assertEqual(NEW[placed["exact"].start : placed["exact"].end], SPANS["exact"])
        self.assertEqual(placed["fuzzy"].placement, "fuzzy")
        self.assertEqual(NEW[placed["fuzzy"].start : placed["fuzzy"].end], "the other Party will immediately provide military")
        self.assertEqual(placed["orphan"].placement, "orphaned")
        self.assertIsNone(placed["orphan"].start)
        self.assertEqual(placed["orphan"].anchored_text, OLD)
        self.assertEqual(Annotation.objects.count(), 3)
        # Placed ones are on version 2; the orphan stays on the version it was made on until a person places it.
        self.assertEqual([placed[name].text_version for name in ("exact", "fuzzy", "orphan")], [2, 2, 1])
        self.assertIn("annotations placed again: 1 anchored, 1 fuzzy, 1 orphaned", " ".join(report.notes))

    def test_orphans_are_listed_for_their_author(self):
        """A drifted or orphaned annotation is shown to its author under “Needs attention”."""
        import_treaty(f"Article 4\n{NEW}\n", treaty=self.treaty)
        self.client.force_login(self.author)
        response = self.client.get("/workspace/t/art-4/")
        self.assertContains(response, "Needs attention")
        self.assertContains(response, SPANS["orphan"])
