"""The annotation forms' own widgets."""

from django import forms
from django.test import SimpleTestCase

from annotations.forms import TagCheckboxes

CHOICES = [(1, "security › military-assistance"), (2, 'a <b> & "c"'), ("x&y", "plain")]


def rendered(widget, **form_kwargs):
    class TagsForm(forms.Form):
        tags = forms.MultipleChoiceField(choices=CHOICES, widget=widget, required=False)

    form = TagsForm(**form_kwargs)
    return {
        "unbound": str(form["tags"]),
        "disabled": str(forms.BoundField(form, forms.MultipleChoiceField(
            choices=CHOICES, widget=widget, disabled=True), "tags")),
    }


class TagCheckboxesTests(SimpleTestCase):
    def test_same_markup_as_djangos_checkbox_list(self):
        cases = {
            "initial": {"initial": {"tags": [2]}},
            "bound": {"data": {"tags": ["1", "x&y"]}},
            "no ids": {"auto_id": False},
            "prefixed": {"prefix": "edit-7", "initial": {"tags": ["x&y"]}},
        }
        for label, kwargs in cases.items():
            with self.subTest(label):
                self.assertEqual(rendered(TagCheckboxes, **kwargs), rendered(forms.CheckboxSelectMultiple, **kwargs))

    def test_labels_and_values_are_escaped(self):
        html = rendered(TagCheckboxes)["unbound"]
        self.assertIn("a &lt;b&gt; &amp; &quot;c&quot;", html)
        self.assertIn('value="x&amp;y"', html)
        self.assertNotIn("<b>", html)
