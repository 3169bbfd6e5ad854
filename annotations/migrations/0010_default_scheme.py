from django.db import migrations

from annotations.roles import regrant_roles

# The scheme the issue names, as a start: curators change it in the admin.
SCHEME = [
    ("obligation-type", "Obligation type", "choice", "What the clause does.",
     [("obligation", "Obligation"), ("right", "Right"), ("prohibition", "Prohibition"),
      ("aspiration", "Aspiration"), ("procedure", "Procedure")]),
    ("trigger", "Trigger", "choice", "What sets it off.",
     [("armed-attack", "Armed attack"), ("threat", "Threat"), ("request", "Request"), ("none", "None")]),
    ("strength", "Strength", "choice", "How strongly it binds.",
     [("binding", "Binding"), ("hortatory", "Hortatory"), ("ambiguous", "Ambiguous")]),
    ("confidence", "Confidence", "scale", "How sure the analyst is.",
     [("low", "Low"), ("medium", "Medium"), ("high", "High")]),
    ("reasoning", "Reasoning", "text", "Why, in a few sentences.", []),
]


def default_scheme(apps, schema_editor):
    Field = apps.get_model("annotations", "AssessmentField")
    Value = apps.get_model("annotations", "AssessmentValue")
    for position, (slug, label, kind, help_text, values) in enumerate(SCHEME):
        field, _ = Field.objects.get_or_create(
            slug=slug, defaults={"label": label, "kind": kind, "position": position, "help_text": help_text}
        )
        for order, (value_slug, value_label) in enumerate(values):
            Value.objects.get_or_create(field=field, slug=value_slug, defaults={"label": value_label, "position": order})



class Migration(migrations.Migration):
    dependencies = [("annotations", "0009_assessments")]

    operations = [
        migrations.RunPython(default_scheme, migrations.RunPython.noop),
        migrations.RunPython(regrant_roles, migrations.RunPython.noop),
    ]
