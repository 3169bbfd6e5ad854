"""Issue 14: hostile input gets a clear 4xx with a sentence a person can act on, never a 500.

The shared field rules (treaty_app/rules.py), the admin guards every ModelAdmin derives from
(treaty_app/admin_guards.py) and the JSON-LD page numbers. Commands and importers: test_importing.py.
"""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import SimpleTestCase, TestCase
from django.urls import reverse

from annotations.models import Tag
from treaty_app import rules
from treaty_app.admin_guards import GuardedAdminMixin, GuardedFieldsMixin
from treaty_app.models import Excerpt, Provision, Source

from .factories import make_annotation, make_provision, make_source, make_user

HUGE = str(10**20)


def code_of(rule, *args, **kwargs):
    """The ValidationError code a rule raises, or None when it accepts the value."""
    try:
        rule(*args, **kwargs)
    except ValidationError as error:
        return error.code
    return None


class TextRuleTests(SimpleTestCase):
    def test_codes(self):
        """NUL, lone surrogates and over-long text each have their own code; clean text passes."""
        cases = {
            "a\x00b": "nul", "half \udcff": "surrogate", "x" * 21: "max_length", "Plain text ✓": None,
        }
        self.assertEqual({value: code_of(rules.clean_text, value, field="note", max_length=20) for value in cases},
                         cases)

    def test_message_names_field_line_and_column(self):
        """The message says which field, where, and what to do."""
        with self.assertRaisesMessage(ValidationError,
                                      "the note contains a NUL character (U+0000) at line 2, column 4: remove it."):
            rules.clean_text("first\nsec\x00ond", field="the note")

    def test_bad_character_position(self):
        """find_bad_character counts lines and columns from 1, in characters."""
        found = rules.find_bad_character("ab\nçd\ud800")
        self.assertEqual((found.index, found.line, found.column), (5, 2, 3))


class UrlRuleTests(SimpleTestCase):
    def test_only_web_addresses(self):
        """http and https pass; javascript:, data:, ftp: and malformed addresses are refused with a code."""
        cases = {
            "https://glossa.example/a?b=c": None, "http://example.org": None, "": None,
            "javascript:alert(1)//X": "url_scheme", "JaVaScRiPt:alert(1)": "url_scheme",
            "data:text/html,<b>x</b>": "url_scheme", "ftp://example.org/file": "url_scheme",
            "https://": "url", "https://exa mple.org": "url",
        }
        self.assertEqual({value: code_of(rules.clean_url, value, field="url") for value in cases}, cases)

    def test_message(self):
        """The refusal quotes the address and says what is accepted."""
        with self.assertRaisesMessage(
            ValidationError, "url must be a web address starting with http:// or https://, not “javascript:alert(1)//X”."
        ):
            rules.clean_url("javascript:alert(1)//X", field="url")


class IntegerRuleTests(SimpleTestCase):
    def test_codes(self):
        """Only ASCII digits make a number, within the bounds; superscripts and other digits do not."""
        cases = {"7": None, " 12 ": None, "²": "integer", "١٢": "integer", "1.5": "integer", "": "integer",
                 "0": "min_value", "101": "max_value", "9" * 5000: "max_value", "-" + "9" * 5000: "min_value"}
        self.assertEqual(
            {value: code_of(rules.clean_integer, value, field="page", minimum=1, maximum=100) for value in cases},
            cases,
        )

    def test_booleans_are_not_numbers(self):
        """True is an int to Python, not to a person."""
        self.assertEqual(code_of(rules.clean_integer, True, field="page"), "integer")

    def test_declared_bounds(self):
        """Bounds come from the declared type, the same on every database; a relation takes its target's."""
        bounds = [rules.integer_bounds(field) for field in [
            Provision._meta.get_field("position"), Excerpt._meta.get_field("start"), Source._meta.pk,
            Provision._meta.get_field("treaty"), Source._meta.get_field("title"),
        ]]
        self.assertEqual(bounds, [(0, 32767), (0, 2147483647), (-(2**63), 2**63 - 1), (-(2**63), 2**63 - 1),
                                  (None, None)])


class FieldRuleTests(SimpleTestCase):
    def test_model_field_limits(self):
        """clean_field_value applies the rule and the limit the model field declares."""
        cases = [(Source, "title", "x" * 301), (Source, "url", "javascript:x"), (Provision, "position", 40000),
                 (Source, "title", "x" * 300)]
        self.assertEqual([code_of(rules.clean_field_value, *case) for case in cases],
                         ["max_length", "url_scheme", "max_value", None])


class StoredUrlTests(TestCase):
    def test_a_stored_javascript_url_is_not_a_link(self):
        """A source url stored before the http(s) rule (or behind its back) is not rendered as a link."""
        source = make_source(url="javascript:alert(1)//X")
        self.assertNotContains(self.client.get(source.get_absolute_url()), 'href="javascript:')


class AdminGuardTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.curator = make_user("cora", role="Curators", is_staff=True, is_superuser=True)
        cls.provision = make_provision(text="Some wording to annotate here.", number=1)
        cls.annotation = make_annotation(cls.provision, cls.curator, 0, 4)
        cls.changelist = reverse("admin:annotations_annotation_changelist")

    def setUp(self):
        self.client.force_login(self.curator)

    def test_every_admin_is_guarded(self):
        """Every registered ModelAdmin, and each of its inlines, derives from the guards."""
        unguarded = [
            type(model_admin).__name__ for model_admin in admin.site._registry.values()
            if not isinstance(model_admin, GuardedAdminMixin)
        ] + [
            inline.__name__ for model_admin in admin.site._registry.values() for inline in model_admin.inlines
            if not issubclass(inline, GuardedFieldsMixin)
        ]
        self.assertEqual(unguarded, [])

    def test_impossible_date_drill_down_is_a_400(self):
        """F3: a year no date holds, the year 9999 and a 30 February answer 400 with the reason."""
        cases = {
            f"created_at__year={HUGE}": f"The year must be at most 9998, not {HUGE}.",
            "created_at__year=9999": "The year must be at most 9998, not 9999.",
            "created_at__year=2024&created_at__month=2&created_at__day=30": "2024-02-30 is not a date.",
            "created_at__year=²": "The year must be a whole number written with the digits 0 to 9",
        }
        for query, message in cases.items():
            with self.subTest(query=query):
                self.assertContains(self.client.get(f"{self.changelist}?{query}"), message, status_code=400)

    def test_a_real_date_drill_down_still_lists(self):
        """A year, month and day that exist list the annotations of that day."""
        day = self.annotation.created_at
        query = f"created_at__year={day.year}&created_at__month={day.month}&created_at__day={day.day}"
        self.assertContains(self.client.get(f"{self.changelist}?{query}"), f"annotation/{self.annotation.pk}/change/")

    def test_impossible_selection_is_a_400(self):
        """F4: an action on ids such as abc or 10**20 answers 400 and says to select again."""
        targets = {
            self.changelist: ("hide", "annotation"),
            reverse("admin:treaty_app_excerptlink_changelist"): ("approve", "excerpt link"),
            reverse("admin:auth_user_changelist"): ("delete_selected", "user"),
        }
        for url, (action, name) in targets.items():
            for value in ["abc", HUGE, "1\x00"]:
                with self.subTest(url=url, value=value):
                    response = self.client.post(url, {"action": action, "index": "0", "_selected_action": [value]})
                    self.assertContains(response, f"which cannot be the id of any {name}", status_code=400)

    def test_impossible_parent_is_a_form_error(self):
        """F5: a tag's parent given as 10**20 or abc is a form error, shown again without a crash."""
        for value in [HUGE, "abc"]:
            with self.subTest(parent=value):
                response = self.client.post(reverse("admin:annotations_tag_add"),
                                            {"name": "n", "slug": "n", "colour": "#000000", "parent": value})
                self.assertEqual(response.context["adminform"].form.errors.as_data()["parent"][0].code,
                                 "invalid_choice")

    def test_impossible_tags_are_a_form_error(self):
        """Many-to-many ids that no column can hold are a form error, shown again without a crash."""
        url = reverse("admin:annotations_annotation_change", args=[self.annotation.pk])
        for value in [HUGE, "abc"]:
            with self.subTest(tags=value):
                response = self.client.post(url, {"visibility": "team", "tags": [value]})
                self.assertEqual(response.context["adminform"].form.errors.as_data()["tags"][0].code,
                                 "invalid_pk_value")

    def test_impossible_history_version_is_a_404(self):
        """F6: a history URL whose object or version is not an id is a 404."""
        pk = self.annotation.pk
        for path in [f"{pk}/history/abc/", f"{pk}/history/{HUGE}/", "abc/history/", "abc/history/1/"]:
            with self.subTest(path=path):
                self.assertEqual(self.client.get(f"{self.changelist}{path}").status_code, 404)

    def test_nul_in_a_list_address_is_a_400(self):
        """A NUL in a search or filter (which PostgreSQL refuses in any query) answers 400."""
        for query in ["q=%00", "visibility=%00", "%00=1"]:
            with self.subTest(query=query):
                self.assertContains(self.client.get(f"{self.changelist}?{query}"), "contains a NUL character",
                                    status_code=400)

    def test_integers_are_held_to_the_declared_range(self):
        """A provision position beyond smallint is refused on SQLite too, as PostgreSQL would refuse it."""
        provision = self.provision
        data = {"treaty": provision.treaty_id, "kind": provision.kind, "number": 1, "position": 40000,
                "slug": provision.slug, "coverage": provision.coverage, "text": provision.text,
                "quoted_passages-TOTAL_FORMS": 0, "quoted_passages-INITIAL_FORMS": 0,
                "excerpt_links-TOTAL_FORMS": 0, "excerpt_links-INITIAL_FORMS": 0}
        response = self.client.post(reverse("admin:treaty_app_provision_change", args=[provision.pk]), data)
        self.assertEqual(response.context["adminform"].form.errors.as_data()["position"][0].code, "max_value")

    def test_source_url_must_be_a_web_address(self):
        """The source form takes only http(s) addresses: ftp:, which Django's URL field allows, is refused."""
        source = make_source()
        data = {"slug": source.slug, "title": source.title, "language": "en", "url": "ftp://example.org/a"}
        response = self.client.post(reverse("admin:treaty_app_source_change", args=[source.pk]), data)
        self.assertEqual(response.context["adminform"].form.errors.as_data()["url"][0].code, "url_scheme")


class ExportPageNumberTests(TestCase):
    def test_superscript_page_gets_a_sentence(self):
        """A page number in superscript digits, which str.isdigit() accepts, is a 400 in plain words."""
        response = self.client.get(reverse("reader:annotations-export"), {"page": "²"})
        self.assertEqual(
            (response.status_code, response.json()),
            (400, {"error": "page must be a whole number written with the digits 0 to 9, not “²”."}),
        )



class PublicQueryTests(TestCase):
    def test_nul_in_the_tag_page_provision_is_a_404(self):
        """?provision= with a NUL (a database error on PostgreSQL) is no provision: 404."""
        Tag.objects.create(name="naval", slug="naval")
        response = self.client.get(reverse("reader:tag", args=["naval"]), {"provision": "art-1\x00"})
        self.assertEqual(response.status_code, 404)


class WorkspaceInputTests(TestCase):
    """Plain input an analyst can send: a clear 4xx with a message, and nothing stored changes."""

    TEXT = "The Parties shall consult each other in a state of war without delay."

    @classmethod
    def setUpTestData(cls):
        cls.provision = make_provision(text=cls.TEXT, number=4)
        cls.ana = make_user("ana")
        cls.create = reverse("annotations:create", args=[cls.provision.treaty.slug, "art-4"])

    def setUp(self):
        self.client.force_login(self.ana)

    def data(self, **overrides):
        words = "state of war"
        start = self.TEXT.index(words)
        return {"exact": words, "start": start, "end": start + len(words), "body": "A note.", "visibility": "team",
                **overrides}

    def test_an_impossible_tag_number_is_a_422_with_a_message(self):
        """F1: tags=10**20 on create and on edit."""
        from annotations import writes
        from annotations.models import Annotation

        for headers in ({}, {"HX-Request": "true"}):
            with self.subTest(htmx=bool(headers)):
                response = self.client.post(self.create, self.data(tags=["100000000000000000000"]), headers=headers)
                self.assertContains(response, "is not a valid value", status_code=422)
        self.assertFalse(Annotation.objects.exists())
        note = writes.create(author=self.ana, target=self.provision, start=0, end=3, exact="The", body="Kept.")
        edit = reverse("annotations:edit", args=[note.pk])
        response = self.client.post(edit, {"body": "Changed.", "tags": ["100000000000000000000"], "version": note.version})
        self.assertContains(response, "is not a valid value", status_code=422)
        self.assertEqual(Annotation.objects.get(pk=note.pk).body, "Kept.")

    def test_a_new_tag_named_like_a_curators_tag_is_that_tag(self):
        """F2: the curator's “Sanctions regime” (slug sanctions-custom) is reused, whatever the case."""
        tag = Tag.objects.create(name="Sanctions regime", slug="sanctions-custom")
        for name in ("Sanctions regime", "sanctions REGIME"):
            with self.subTest(name):
                response = self.client.post(self.create, self.data(new_tags=name))
                self.assertEqual(response.status_code, 302)
        self.assertEqual(Tag.objects.count(), 1)
        self.assertEqual(set(tag.annotations.values_list("body", flat=True)), {"A note."})
        self.assertEqual(tag.annotations.count(), 2)

    def test_bad_hidden_fields_say_so(self):
        """excerpt=abc on create, version=abc or none on edit: a 422 whose message a person can read."""
        from annotations import writes

        response = self.client.post(self.create, self.data(excerpt="abc"))
        self.assertContains(response, "The selection could not be read. Select the words again.", status_code=422)
        note = writes.create(author=self.ana, target=self.provision, start=0, end=3, exact="The", body="Kept.")
        edit = reverse("annotations:edit", args=[note.pk])
        for version in ({"version": "abc"}, {}):
            with self.subTest(version=version):
                response = self.client.post(edit, {"body": "Changed.", **version})
                self.assertContains(response, "The form could not be read: reload the page and edit again.",
                                    status_code=422)


class MethodNotAllowedTests(TestCase):
    """Found by tests/test_fuzz.py: every 405 had an empty body."""

    def test_a_405_says_what_the_address_takes(self):
        """A GET of a form's address (here submit) and a POST to a read-only page answer 405 in words."""
        ana = make_user("ana")
        provision = make_provision(text="Some wording to annotate here.", number=1)
        note = make_annotation(provision, ana, 0, 4)
        self.client.force_login(ana)
        cases = [
            ("get", reverse("annotations:submit", args=[note.pk]), "It takes POST requests, not GET."),
            ("post", reverse("reader:search"), "It takes GET or HEAD requests, not POST."),
        ]
        for method, url, message in cases:
            with self.subTest(url=url):
                response = getattr(self.client, method)(url)
                self.assertContains(response, message, status_code=405)
                self.assertContains(response, 'role="alert"', status_code=405)


class ForbiddenTests(TestCase):
    """Found by tests/test_fuzz.py: a 403 said only “403 Forbidden”."""

    def test_a_403_says_why(self):
        """An analyst hiding a note (a curator's act) and placing another's note again each get a 403
        with a sentence: the reason given, or what the role lacks."""
        ana, bob = make_user("ana"), make_user("bob")
        provision = make_provision(text="Some wording to annotate here.", number=1)
        note = make_annotation(provision, bob, 0, 4, placement="fuzzy")
        self.client.force_login(ana)
        cases = [
            (reverse("annotations:hide", args=[note.pk]), "Your account does not have the role this page needs."),
            (reverse("annotations:place", args=[note.pk]), "Only the author or a curator can place this annotation again."),
        ]
        for url, message in cases:
            with self.subTest(url=url):
                response = self.client.post(url)
                self.assertContains(response, message, status_code=403)


class BadRequestTests(TestCase):
    """Found by tests/test_fuzz.py: a 400 that Django answers itself said only “Bad Request (400)”."""

    def test_a_400_says_what_to_do(self):
        """A visitor sent to log in from a workspace address with a query of 1,700 accented letters: the login
        address would exceed Django's redirect limit (a SuspiciousOperation), and the 400 says so in words."""
        response = self.client.get(reverse("annotations:home"), {"q": "é" * 1700})
        self.assertContains(response, "Glossa refused the address or the form that was sent", status_code=400)


class TagInAnyScriptTests(TestCase):
    """Found by tests/test_fuzz.py: a tag named in Cyrillic (slug “санкции”, as writes.tag_slug
    makes it) had no URL, so every page that links to its tag page was a 500 (NoReverseMatch)."""

    def test_pages_that_link_a_cyrillic_tag(self):
        """The tag's own page, a page of another tag on the same note, search and the JSON-LD answer 200."""
        ana = make_user("ana")
        provision = make_provision(text="Some wording to annotate here.", number=1)
        sanctions = Tag.objects.create(name="Санкции", slug="санкции")
        naval = Tag.objects.create(name="naval", slug="naval")
        make_annotation(provision, ana, 0, 4, visibility="public", review="published", tags=[sanctions, naval])
        urls = [reverse("reader:tag", args=["санкции"]), reverse("reader:tag", args=["naval"]),
                reverse("reader:search") + "?q=some", reverse("reader:annotations-export") + "?page=1"]
        self.assertEqual(urls[0], "/tags/%D1%81%D0%B0%D0%BD%D0%BA%D1%86%D0%B8%D0%B8/")
        for url in urls:
            with self.subTest(url=url):
                self.assertContains(self.client.get(url), "/tags/%D1%81%D0%B0%D0%BD%D0%BA%D1%86%D0%B8%D0%B8/"
                                    if "jsonld" in url else "Санкции")


class EmptyReplyTests(TestCase):
    """Found by tests/test_fuzz.py: a reply posted with no field at all was a 422 that said nothing."""

    def test_an_empty_post_says_the_reply_is_missing(self):
        """With no ``body`` field, plain and HTMX answers are a 422 that says the reply is required."""
        from annotations.models import Annotation

        ana = make_user("ana")
        provision = make_provision(text="Some wording to annotate here.", number=1)
        note = make_annotation(provision, ana, 0, 4)
        self.client.force_login(ana)
        for headers in ({}, {"HX-Request": "true"}):
            with self.subTest(htmx=bool(headers)):
                response = self.client.post(reverse("annotations:reply", args=[note.pk]), headers=headers)
                self.assertContains(response, "This field is required.", status_code=422)
        self.assertEqual(Annotation.objects.count(), 1)


class WorkspaceFilterTests(TestCase):
    """Found by tests/test_fuzz.py: the workspace's ?tag= and ?author= went to the database and into
    every redirect as they came."""

    @classmethod
    def setUpTestData(cls):
        cls.ana = make_user("ana")
        cls.provision = make_provision(text="Some wording to annotate here.", number=1)
        cls.page = reverse("annotations:workspace", args=[cls.provision.treaty.slug, "art-1"])

    def setUp(self):
        self.client.force_login(self.ana)

    def test_a_nul_in_a_filter_names_nothing(self):
        """?tag= or ?author= with a NUL (a 500 on PostgreSQL, which refuses it in a query) is no filter."""
        for query in ({"tag": "naval\x00"}, {"author": "a\x00"}):
            with self.subTest(query=query):
                self.assertContains(self.client.get(self.page, query), "Some wording to annotate here.")

    def test_a_long_filter_does_not_break_the_redirect_after_a_save(self):
        """A create posted with ?author= of 3,000 accented letters (no username is that long) saves the
        note and redirects to the workspace without it; it was a 400 after the note was saved, since
        the redirect exceeded Django's 16,384-character limit."""
        from annotations.models import Annotation

        create = reverse("annotations:create", args=[self.provision.treaty.slug, "art-1"])
        response = self.client.post(f"{create}?author={'é' * 3000}&visibility=team",
                                    {"exact": "Some", "start": 0, "end": 4, "body": "A note.", "visibility": "team"})
        note = Annotation.objects.get()
        self.assertRedirects(response, f"{self.page}?visibility=team#annotation-{note.pk}", fetch_redirect_response=False)


class AdminSearchLengthTests(TestCase):
    """Found by tests/test_fuzz.py: a changelist search of a thousand words was a 500 on SQLite."""

    def test_a_search_of_too_many_words_is_a_400(self):
        """1,000 words on the annotation changelist, by GET and with an action (which ran the search inside
        its write): a 400 that says how many words are allowed, and nothing is hidden. 50 words still list."""
        from annotations.models import Annotation

        curator = make_user("cora", role="Curators", is_staff=True)
        note = make_annotation(make_provision(text="Some wording to annotate here.", number=1), curator, 0, 4)
        self.client.force_login(curator)
        changelist = reverse("admin:annotations_annotation_changelist")
        many = "?q=" + "+".join(["war"] * 1000)
        self.assertContains(self.client.get(changelist + many), "The search has 1000 words: search with at most 50.",
                            status_code=400)
        response = self.client.post(changelist + many, {"action": "hide", "index": "0", "_selected_action": [note.pk]})
        self.assertContains(response, "The search has 1000 words", status_code=400)
        self.assertIsNone(Annotation.objects.get().hidden_at)
        self.assertEqual(self.client.get(changelist + "?q=" + "+".join(["war"] * 50)).status_code, 200)

    def test_the_tag_autocomplete_finds_nothing_for_too_many_words(self):
        """The tags field's autocomplete, which searches the tag admin, answers an empty list to 1,000 words."""
        self.client.force_login(make_user("cora", role="Curators", is_staff=True))
        Tag.objects.create(name="war", slug="war")
        query = {"app_label": "annotations", "model_name": "annotation", "field_name": "tags"}
        url = reverse("admin:autocomplete")
        self.assertEqual(self.client.get(url, {"term": "war " * 1000, **query}).json()["results"], [])
        self.assertEqual(len(self.client.get(url, {"term": "war", **query}).json()["results"]), 1)


class AdminActionAddressTests(TestCase):
    """Found by tests/test_fuzz.py: an action from a list whose address was too long to redirect to
    acted, then answered 400."""

    def test_an_action_from_a_too_long_address_changes_nothing(self):
        """Hide from ?o=1.1.… (18,000 characters, which the ordering ignores): a 400 that says so, and
        the annotation is not hidden; from a short address the action still acts."""
        from annotations.models import Annotation

        curator = make_user("cora", role="Curators", is_staff=True)
        note = make_annotation(make_provision(text="Some wording to annotate here.", number=1), make_user("ana"), 0, 4)
        self.client.force_login(curator)
        changelist = reverse("admin:annotations_annotation_changelist")
        action = {"action": "hide", "index": "0", "_selected_action": [note.pk]}
        response = self.client.post(f"{changelist}?o={'1.' * 9000}", action)
        self.assertContains(response, "too long to come back to after an action", status_code=400)
        self.assertIsNone(Annotation.objects.get().hidden_at)
        self.assertRedirects(self.client.post(f"{changelist}?o=1", action), f"{changelist}?o=1")
        self.assertIsNotNone(Annotation.objects.get().hidden_at)
