"""Version 1 of the standard: the shipped `pingan` profile, in force until a version signed
by both a CDC officer and a police officer replaces it (a fresh centre needs a standard)."""

from django.db import migrations
from django.utils import timezone


def create_default(apps, schema_editor):
    from pingan.takehome.standard import default_document

    Standard = apps.get_model("takehome", "Standard")
    if not Standard.objects.exists():
        Standard.objects.create(
            version=1,
            profile="pingan",
            document=default_document("pingan"),
            drafted_at=timezone.now(),
            note="Shipped default (docs/takehome-standard.md), in force until a signed version replaces it.",
            shipped_default=True,
        )


class Migration(migrations.Migration):
    dependencies = [("takehome", "0002_standard_requests_incidents")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
