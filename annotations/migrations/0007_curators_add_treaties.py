from django.db import migrations

from annotations.roles import regrant_roles


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0006_foreign_annotations"),
        ("treaty_app", "0006_scoped_content_versions"),
    ]

    operations = [migrations.RunPython(regrant_roles, migrations.RunPython.noop)]
