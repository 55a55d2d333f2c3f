# The days the centre closes by hand now live in core (core.ClosedDay), where the urine-test
# schedule reads them too; existing rows move there with their reason, author and time.

from django.db import migrations


def forward(apps, schema_editor):
    old = apps.get_model("takehome", "CentreClosure")
    new = apps.get_model("core", "ClosedDay")
    new.objects.bulk_create(
        new(
            external_id=row.external_id,
            created_at=row.created_at,
            created_by_id=row.created_by_id,
            day=row.day,
            reason=row.reason.strip()[:200] or "?",
        )
        for row in old.objects.all()
    )


def backward(apps, schema_editor):
    old = apps.get_model("takehome", "CentreClosure")
    new = apps.get_model("core", "ClosedDay")
    old.objects.bulk_create(
        old(
            external_id=row.external_id,
            created_at=row.created_at,
            created_by_id=row.created_by_id,
            day=row.day,
            reason=row.reason,
        )
        for row in new.objects.all()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_closed_day"),
        ("takehome", "0003_shipped_default_standard"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.DeleteModel(name="CentreClosure"),
    ]
