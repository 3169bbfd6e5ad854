"""Issue 14: hostile input gets a clear 4xx with a sentence a person can act on, never a 500.

The shared field rules (treaty_app/rules.py) and what they guard on public pages.
Commands and importers: test_importing.py.
"""

from django.core.exceptions import ValidationError
from django.test import SimpleTestCase, TestCase
from django.urls import reverse

from treaty_app import rules
from treaty_app.models import Excerpt, Provision, Source

from .factories import make_source

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
