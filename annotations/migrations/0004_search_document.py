"""A stored full-text document for each annotation, with a GIN index, on PostgreSQL.

Search used to build every annotation's tsvector at query time: a second and more over 100,000
annotations. A generated column keeps it up to date on every write, and the index finds the
matches. It holds what ``annotations.search.ANNOTATION_FIELDS`` searches, with the same weights.
Other databases search with the portable matcher and get nothing here.
"""

from django.db import migrations

DOCUMENT = (
    "setweight(to_tsvector('english'::regconfig, COALESCE(exact, '')), 'C')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(body, '')), 'C')"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE annotations_annotation ADD COLUMN search_document tsvector "
            f"GENERATED ALWAYS AS ({DOCUMENT}) STORED"
        )
        schema_editor.execute(
            "CREATE INDEX annotations_annotation_search ON annotations_annotation USING gin (search_document)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE annotations_annotation DROP COLUMN search_document")


class Migration(migrations.Migration):
    dependencies = [("annotations", "0003_historicalannotation_historicalannotation_tags_and_more")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
