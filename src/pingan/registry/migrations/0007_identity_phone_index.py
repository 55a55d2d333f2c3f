"""The keyed index of each identity's phone number, for the region's dual-enrolment check
of people enrolled without an ID number: added empty, then filled from the (decrypted)
phone of every identity that has one. `pingan keys reindex` recomputes it with the
national ID's index after a key is retired."""

from django.db import migrations, models

BATCH = 500


def fill(apps, schema_editor):
    from pingan.registry.actions import phone_index

    Identity = apps.get_model("registry", "Identity")
    last = 0
    while True:
        rows = list(Identity.objects.filter(pk__gt=last).order_by("pk").only("pk", "phone")[:BATCH])
        if not rows:
            return
        for row in rows:
            if row.phone:
                Identity.objects.filter(pk=row.pk).update(phone_index=phone_index(row.phone))
        last = rows[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0006_transfer"),
    ]

    operations = [
        migrations.AddField(
            model_name="identity",
            name="phone_index",
            field=models.CharField(blank=True, db_index=True, default="", max_length=64),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
