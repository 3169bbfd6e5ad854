"""Issue 13 §7 (curators): provisions named with their treaty where two treaties make “Article 4”
ambiguous, a merge that never offers a tag to itself, merged tags' URLs that redirect to their
survivor, and history that names deleted objects."""

from django.test import TestCase
from django.urls import reverse

from annotations import writes
from annotations.models import Tag, TagAlias

from .factories import (
    link,
    make_annotation,
    make_excerpt,
    make_provision,
    make_source,
    make_treaty,
    make_user,
)

TEXT = "The other Party shall provide military and other assistance."


def provision_filter_labels(response):
    """The labels of a changelist's “By provision” filter, sorted (the filter lists treaties newest first)."""
    spec, = [spec for spec in response.context["cl"].filter_specs if getattr(spec, "field_path", "") == "provision"]
    return sorted(label for _, label in spec.lookup_choices)


class ProvisionLabelTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.first = make_provision(make_treaty(slug="a", short_title="DPRK–Russia Treaty (2024)"), number=4, text=TEXT)
        cls.curator = make_user("cora", role="Curators", is_staff=True)
        cls.excerpt = make_excerpt(make_source("Article 4 matters."), 0, 9)
        cls.link = link(cls.excerpt, cls.first)

    def setUp(self):
        self.client.force_login(self.curator)

    def second_treaty(self):
        return make_provision(make_treaty(slug="b", short_title="USSR–DPRK Treaty (1961)"), number=4, text=TEXT)

    def autocomplete(self):
        response = self.client.get(reverse("admin:autocomplete"), {
            "app_label": "treaty_app", "model_name": "excerptlink", "field_name": "provision", "term": "",
        })
        return sorted(result["text"] for result in response.json()["results"])

    def test_one_treaty_needs_no_treaty_names(self):
        """With one treaty, the annotations' “By provision” filter says “Article 4”."""
        response = self.client.get(reverse("admin:annotations_annotation_changelist"))
        self.assertEqual(provision_filter_labels(response), ["Article 4"])

    def test_two_treaties_name_the_treaty_in_the_annotations_filter(self):
        self.second_treaty()
        response = self.client.get(reverse("admin:annotations_annotation_changelist"))
        self.assertEqual(provision_filter_labels(response),
                         ["Article 4, DPRK–Russia Treaty (2024)", "Article 4, USSR–DPRK Treaty (1961)"])

    def test_two_treaties_name_the_treaty_in_the_excerpt_links_filter(self):
        self.second_treaty()
        response = self.client.get(reverse("admin:treaty_app_excerptlink_changelist"))
        self.assertEqual(provision_filter_labels(response),
                         ["Article 4, DPRK–Russia Treaty (2024)", "Article 4, USSR–DPRK Treaty (1961)"])

    def test_one_treaty_autocompletes_plain_labels(self):
        self.assertEqual(self.autocomplete(), ["Article 4"])

    def test_two_treaties_autocomplete_with_the_treaty(self):
        """The provision autocomplete (excerpt links, cross-references) names each result's treaty."""
        self.second_treaty()
        self.assertEqual(self.autocomplete(),
                         ["Article 4, DPRK–Russia Treaty (2024)", "Article 4, USSR–DPRK Treaty (1961)"])

    def test_the_selected_provision_is_named_with_its_treaty(self):
        """On an excerpt link's change page, the provision already chosen shows with its treaty."""
        self.second_treaty()
        response = self.client.get(reverse("admin:treaty_app_excerptlink_change", args=[self.link.pk]))
        self.assertContains(response, f'<option value="{self.first.pk}" selected>Article 4, DPRK–Russia Treaty (2024)'
                                      "</option>", html=True)


class MergeTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.provision = make_provision(make_treaty(slug="t", short_title="T"), number=4, text=TEXT)
        cls.analyst = make_user("ana")
        cls.curator = make_user("cora", role="Curators", is_staff=True)
        cls.old = Tag.objects.create(name="mil-assist", slug="mil-assist")
        cls.new = Tag.objects.create(name="military-assistance", slug="military-assistance")
        cls.annotation = make_annotation(cls.provision, cls.analyst, 0, 3, tags=[cls.old])

    def setUp(self):
        self.client.force_login(self.curator)

    def merge(self, selected, into=None):
        data = {"action": "merge", "_selected_action": [tag.pk for tag in selected]}
        if into is not None:
            data["into"] = into.pk
        return self.client.post(reverse("admin:annotations_tag_changelist"), data, follow=True)


class MergeTargetTests(MergeTestCase):
    def test_the_selected_tags_are_not_offered_as_targets(self):
        """The confirmation offers every tag but those being merged."""
        third = Tag.objects.create(name="sanctions", slug="sanctions")
        form = self.merge([self.old, self.new]).context["form"]
        self.assertEqual(list(form.fields["into"].queryset), [third])

    def test_merging_a_tag_into_itself_is_refused(self):
        """A POST naming a selected tag as the target merges nothing: the tag is still there."""
        self.merge([self.old, self.new], into=self.old)
        self.assertEqual(Tag.objects.filter(pk__in=[self.old.pk, self.new.pk]).count(), 2)

    def test_selecting_every_tag_says_to_leave_one_out(self):
        response = self.merge(list(Tag.objects.all()))
        self.assertContains(response, "Leave the tag to keep out of the selection")


class MergedTagRedirectTests(MergeTestCase):
    def test_a_merged_tags_url_redirects_for_good_to_its_survivor(self):
        self.merge([self.old], into=self.new)
        response = self.client.get(reverse("reader:tag", args=["mil-assist"]))
        self.assertRedirects(response, reverse("reader:tag", args=["military-assistance"]), status_code=301)

    def test_the_redirect_keeps_the_filters(self):
        """?provision= and ?treaty= (the parameters the tag page reads) survive the redirect."""
        self.merge([self.old], into=self.new)
        response = self.client.get(reverse("reader:tag", args=["mil-assist"]), {"treaty": "t", "provision": "art-4"})
        self.assertEqual(response["Location"], "/tags/military-assistance/?treaty=t&provision=art-4")

    def test_a_tag_merged_twice_leads_to_the_last_survivor(self):
        """mil-assist merged into military-assistance, then that into security: mil-assist leads to security."""
        self.merge([self.old], into=self.new)
        security = Tag.objects.create(name="security", slug="security")
        self.merge([Tag.objects.get(pk=self.new.pk)], into=security)
        response = self.client.get(reverse("reader:tag", args=["mil-assist"]))
        self.assertEqual(response["Location"], reverse("reader:tag", args=["security"]))

    def test_the_merge_records_the_alias_in_its_transaction(self):
        """The alias names the merged tag and the curator who merged it."""
        writes.merge_tags([self.old], into=self.new, curator=self.curator)
        alias = TagAlias.objects.get(slug="mil-assist")
        self.assertEqual((alias.name, alias.tag, alias.merged_by), ("mil-assist", self.new, self.curator))

    def test_a_slug_no_tag_ever_had_is_still_a_404(self):
        self.assertEqual(self.client.get(reverse("reader:tag", args=["never-a-tag"])).status_code, 404)

    def test_the_survivors_admin_page_lists_the_merged_tags(self):
        """The survivor's change page lists the merged tag's slug, whose URL now leads there."""
        self.merge([self.old], into=self.new)
        response = self.client.get(reverse("admin:annotations_tag_change", args=[self.new.pk]))
        self.assertContains(response, "mil-assist")


class DeletedNamesInHistoryTests(MergeTestCase):
    def test_an_annotations_history_names_the_merged_tag(self):
        """After a merge, the annotation's history says which tag it carried before, by name."""
        writes.retag(self.annotation.pk, curator=self.curator, tags=[self.old])
        self.merge([self.old], into=self.new)
        response = self.client.get(reverse("admin:annotations_annotation_history", args=[self.annotation.pk]))
        self.assertContains(response, "Deleted tag “mil-assist”")

    def test_no_deleted_tag_is_named_by_its_number(self):
        writes.retag(self.annotation.pk, curator=self.curator, tags=[self.old])
        self.merge([self.old], into=self.new)
        response = self.client.get(reverse("admin:annotations_annotation_history", args=[self.annotation.pk]))
        self.assertNotContains(response, "(pk=")

    def test_a_tags_history_names_its_merged_parent(self):
        """A narrower tag whose parent was merged away names that parent in its history."""
        child = Tag.objects.create(name="arms", slug="arms", parent=self.old)
        self.client.post(reverse("admin:annotations_tag_change", args=[child.pk]),
                         {"name": "arms", "slug": "arms", "colour": "#f4d03f", "description": "", "parent": self.old.pk,
                          "aliases-TOTAL_FORMS": 0, "aliases-INITIAL_FORMS": 0})
        self.merge([self.old], into=self.new)
        response = self.client.get(reverse("admin:annotations_tag_history", args=[child.pk]))
        self.assertContains(response, "Deleted tag “mil-assist”")

