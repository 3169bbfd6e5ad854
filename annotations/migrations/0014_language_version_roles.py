from django.contrib.auth.management import create_permissions
from django.db import migrations

from annotations.roles import grant_role_permissions


def regrant(apps, schema_editor):
    # As 0002: permissions are normally made after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    grant_role_permissions(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), strict=False)


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0013_language_version"),
        ("treaty_app", "0009_language_versions"),
    ]

    operations = [migrations.RunPython(regrant, migrations.RunPython.noop)]
