"""A stored full-text document for each provision, with a GIN index, on PostgreSQL.

It holds what ``annotations.search.WORDING_FIELDS`` searches (heading and wording weighted A,
summary B), so that search reads it instead of parsing 25,000-character wordings on every query.
Other databases search with the portable matcher and get nothing here.
"""

from django.db import migrations

DOCUMENT = (
    "setweight(to_tsvector('english'::regconfig, COALESCE(heading, '')), 'A')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(text, '')), 'A')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(summary, '')), 'B')"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE treaty_app_provision ADD COLUMN search_document tsvector "
            f"GENERATED ALWAYS AS ({DOCUMENT}) STORED"
        )
        schema_editor.execute(
            "CREATE INDEX treaty_app_provision_search ON treaty_app_provision USING gin (search_document)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE treaty_app_provision DROP COLUMN search_document")


class Migration(migrations.Migration):
    dependencies = [("treaty_app", "0004_offsets_inside_body")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
