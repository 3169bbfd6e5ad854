"""A database guard that excerpt and quoted-passage offsets lie inside their source's body.

A CHECK constraint cannot look at another table, so this is a trigger, written for each
backend Glossa runs on. Both count characters (code points), as Python's str does.
"""

from django.db import migrations

TABLES = {"treaty_app_excerpt": '"end"', "treaty_app_quotedpassage": "source_end"}


def sqlite_triggers():
    for table, end in TABLES.items():
        for event in ("INSERT", "UPDATE"):
            yield f"""
                CREATE TRIGGER {table}_inside_body_{event.lower()} BEFORE {event} ON {table}
                WHEN NEW.{end} > (SELECT length(body) FROM treaty_app_source WHERE id = NEW.source_id)
                BEGIN SELECT RAISE(ABORT, 'offsets lie outside the source body'); END;
            """


def postgres_triggers():
    yield """
        CREATE FUNCTION glossa_offsets_inside_body() RETURNS trigger AS $$
        DECLARE body_length integer;
        BEGIN
            SELECT char_length(body) INTO body_length FROM treaty_app_source WHERE id = NEW.source_id;
            IF (to_jsonb(NEW) ->> TG_ARGV[0])::integer > body_length THEN
                RAISE EXCEPTION 'offsets lie outside the source body' USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql;
    """
    for table, end in TABLES.items():
        yield f"""
            CREATE TRIGGER {table}_inside_body BEFORE INSERT OR UPDATE ON {table}
            FOR EACH ROW EXECUTE FUNCTION glossa_offsets_inside_body('{end.strip('"')}');
        """


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": sqlite_triggers, "postgresql": postgres_triggers}.get(vendor)
    for statement in statements() if statements else ():
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            for event in ("insert", "update"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_inside_body_{event}")
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_inside_body ON {table}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS glossa_offsets_inside_body()")


class Migration(migrations.Migration):
    dependencies = [("treaty_app", "0003_historicalexcerptlink_historicalprovision")]

    operations = [migrations.RunPython(create, drop)]
