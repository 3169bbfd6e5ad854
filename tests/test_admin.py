from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.models import Annotation
from treaty_app.importing import load_corpus
from treaty_app.models import ExcerptLink

from .factories import make_annotations, make_user

CHANGELISTS = ["treaty_app_treaty", "treaty_app_provision", "treaty_app_source", "treaty_app_excerpt",
               "treaty_app_excerptlink", "annotations_annotation", "annotations_tag"]


class CuratorAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.curator = make_user("cora", role="Curators", is_staff=True)
        cls.analyst = make_user("ana")

    def setUp(self):
        self.client.force_login(self.curator)

    def test_curator_opens_every_changelist_and_change_page(self):
        """A curator can open each model's list and a change page of its first row."""
        for name in CHANGELISTS:
            with self.subTest(name=name):
                self.assertEqual(self.client.get(reverse(f"admin:{name}_changelist")).status_code, 200)
        provision = ExcerptLink.objects.first().provision
        self.assertEqual(self.client.get(reverse("admin:treaty_app_provision_change", args=[provision.pk])).status_code, 200)

    def test_approve_and_reject_links_in_bulk(self):
        """The approve/reject actions record the state and who reviewed it."""
        links = ExcerptLink.objects.filter(provision__slug="art-4")
        ids = list(links.values_list("pk", flat=True))
        self.client.post(reverse("admin:treaty_app_excerptlink_changelist"),
                         {"action": "reject", "_selected_action": ids})
        self.assertEqual(set(links.values_list("state", flat=True)), {"rejected"})
        self.assertEqual(set(links.values_list("reviewed_by", flat=True)), {self.curator.pk})

    def test_analysts_cannot_reach_the_admin(self):
        """An analyst is not staff: the admin sends them to its login page."""
        self.client.force_login(self.analyst)
        response = self.client.get(reverse("admin:annotations_annotation_changelist"))
        self.assertEqual(response.status_code, 302)

    def test_hide_action(self):
        """A curator hides annotations in bulk from the admin."""
        provision = ExcerptLink.objects.first().provision
        provision.text, provision.coverage = "Some wording to annotate here.", "quoted"
        provision.save()
        make_annotations(provision, self.analyst, 3)
        ids = list(Annotation.objects.values_list("pk", flat=True))
        self.client.post(reverse("admin:annotations_annotation_changelist"), {"action": "hide", "_selected_action": ids})
        self.assertEqual(Annotation.objects.filter(hidden_by=self.curator).count(), 3)

    def test_annotation_changelist_queries_are_flat(self):
        """The annotation changelist costs the same queries for 5 rows as for 100."""
        provision = ExcerptLink.objects.first().provision
        provision.text, provision.coverage = "Some wording to annotate here.", "quoted"
        provision.save()
        url = reverse("admin:annotations_annotation_changelist")
        make_annotations(provision, self.analyst, 5)
        with CaptureQueriesContext(connection) as few:
            self.client.get(url)
        make_annotations(provision, self.analyst, 95)
        with CaptureQueriesContext(connection) as many:
            self.client.get(url)
        self.assertEqual(len(many), len(few), [q["sql"] for q in many.captured_queries])
