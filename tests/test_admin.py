from django.test import TestCase
from django.urls import reverse

from treaty_app.importing import load_corpus
from treaty_app.models import ExcerptLink

from .factories import make_user

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
        """The approve and reject actions each record the state and who reviewed it, and the public
        page follows: a rejected excerpt leaves it, an approved one comes back."""
        links = ExcerptLink.objects.filter(provision__slug="art-4")
        ids = list(links.values_list("pk", flat=True))
        page = links.first().provision.get_absolute_url()
        excerpt = links.first().excerpt
        changelist = reverse("admin:treaty_app_excerptlink_changelist")
        for action, state, shown in (("reject", "rejected", False), ("approve", "approved", True)):
            with self.subTest(action):
                self.client.post(changelist, {"action": action, "_selected_action": ids})
                self.assertEqual(set(links.values_list("state", flat=True)), {state})
                self.assertEqual(set(links.values_list("reviewed_by", flat=True)), {self.curator.pk})
                self.client.logout()
                self.assertEqual(f'id="excerpt-{excerpt.pk}"' in self.client.get(page).content.decode(), shown)
                self.client.force_login(self.curator)

    def test_analysts_cannot_reach_the_admin(self):
        """An analyst is not staff: the admin sends them to its login page."""
        self.client.force_login(self.analyst)
        response = self.client.get(reverse("admin:annotations_annotation_changelist"))
        self.assertEqual(response.status_code, 302)


class SecondTreatyTests(TestCase):
    """Curators, not only superusers, add a treaty and its provisions, and link provisions across treaties."""

    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.curator = make_user("cora", role="Curators", is_staff=True)

    def test_a_curator_adds_a_treaty_with_a_provision_and_a_cross_reference(self):
        from treaty_app.models import CrossReference, Provision, Treaty

        self.client.force_login(self.curator)
        response = self.client.post(reverse("admin:treaty_app_treaty_add"), {
            "slug": "ussr-dprk-1961", "title": "Treaty of Friendship, Cooperation and Mutual Assistance",
            "short_title": "USSR–DPRK Treaty (1961)", "parties": "USSR; DPRK", "status": "terminated",
            "language": "en", "language_status": "unofficial",
            "provisions-TOTAL_FORMS": 1, "provisions-INITIAL_FORMS": 0,
            "provisions-0-position": 1, "provisions-0-slug": "art-1", "provisions-0-kind": "article",
            "provisions-0-number": 1, "provisions-0-heading": "Mutual assistance", "_save": "Save",
        })
        self.assertEqual(response.status_code, 302, response.content.decode()[:2000])
        old = Provision.objects.get(treaty__slug="ussr-dprk-1961", slug="art-1")
        new = Provision.objects.get(treaty__slug="dprk-russia-2024", slug="art-4")
        response = self.client.post(reverse("admin:treaty_app_crossreference_add"), {
            "provision": new.pk, "target": old.pk, "relation": "compare", "note": "Its predecessor's assistance clause.",
            "_save": "Save",
        })
        self.assertEqual(response.status_code, 302)
        self.assertTrue(CrossReference.objects.filter(provision=new, target=old).exists())
        listing = self.client.get(reverse("admin:treaty_app_crossreference_changelist")).content.decode()
        self.assertIn("Article 1, USSR–DPRK Treaty (1961)", listing)
        links = self.client.get(reverse("admin:treaty_app_excerptlink_changelist")).content.decode()
        self.assertIn('<td class="field-treaty">DPRK–Russia Treaty (2024)</td>', links)
        self.assertEqual(Treaty.objects.count(), 2)


class ActionCheckboxTests(TestCase):
    def test_each_rows_checkbox_is_djangos_markup(self):
        """The changelist's checkbox, written without the widget templates, is Django's to the byte,
        names with markup in them included; and the annotation list shows one per row."""
        from django.contrib import admin as django_admin

        from annotations.models import Annotation, Tag
        site = django_admin.site  # the project's site (admin_site.GlossaAdminSite)

        from .factories import annotation_row, make_provision

        provision = make_provision(text="The Parties shall consult each other.", number=1)
        note = annotation_row(provision=provision, author=make_user("ana"), body="A note.", visibility="team",
                              exact="consult <each> & \"other\"", start=0, end=7)
        tag = Tag.objects.create(name='<b>"war" & peace</b>', slug="war")
        for obj, model in [(note, Annotation), (tag, Tag)]:
            with self.subTest(model.__name__):
                model_admin = site._registry[model]
                self.assertEqual(model_admin.action_checkbox(obj),
                                 django_admin.ModelAdmin.action_checkbox(model_admin, obj))
        self.client.force_login(make_user("cora", role="Curators", is_staff=True))
        page = self.client.get(reverse("admin:annotations_annotation_changelist")).content.decode()
        self.assertEqual(page.count('class="action-select"'), 1)
        self.assertIn(site._registry[Annotation].action_checkbox(note), page)
