from django.db import migrations

SUPERUSER = "SuperUser"


def create_superuser_role(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    Role.objects.get_or_create(
        name=SUPERUSER,
        defaults={"description": "Every action on every object.", "actions": ["*"]},
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(create_superuser_role, migrations.RunPython.noop)]
