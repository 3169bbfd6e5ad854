from django.db import migrations, models


def name_the_existing_row(apps, schema_editor):
    # The one row of old becomes the shared scope, which every page reads.
    versions = apps.get_model("treaty_app", "ContentVersion").objects
    versions.filter(pk=1).update(scope="shared")
    versions.filter(scope__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("treaty_app", "0005_search_document"),
    ]

    operations = [
        migrations.AddField(
            model_name="contentversion",
            name="scope",
            field=models.CharField(max_length=80, null=True),
        ),
        migrations.RunPython(name_the_existing_row, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="contentversion",
            name="scope",
            field=models.CharField(max_length=80, unique=True),
        ),
    ]
