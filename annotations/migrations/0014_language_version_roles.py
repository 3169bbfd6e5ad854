from django.db import migrations

from annotations.roles import regrant_roles


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0013_language_version"),
        ("treaty_app", "0009_language_versions"),
    ]

    operations = [migrations.RunPython(regrant_roles, migrations.RunPython.noop)]
