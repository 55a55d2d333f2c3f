"""Each ward room belongs to a centre; room names are unique per centre."""

import django.db.models.deletion
from django.db import migrations, models

import pingan.core.models
from pingan.region.upgrade import fill_centre


def centre_field(**extra):
    return models.ForeignKey(
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="core.centre",
        verbose_name="centre",
        **extra,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_closed_day"),
        ("inpatient", "0002_ledger_payment_method"),
    ]

    operations = [
        migrations.AddField(model_name="room", name="centre", field=centre_field(null=True)),
        migrations.RunPython(fill_centre("inpatient", "Room"), migrations.RunPython.noop),
        # The default (the installation's centre) lives only in Python: kept out of the
        # ALTER so that migrating never creates a centre by itself.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(model_name="room", name="centre", field=centre_field())
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="room",
                    name="centre",
                    field=centre_field(default=pingan.core.models.Centre.current),
                )
            ],
        ),
        migrations.AlterField(
            model_name="room",
            name="name",
            field=models.CharField(max_length=40, verbose_name="room name"),
        ),
        migrations.AddConstraint(
            model_name="room",
            constraint=models.UniqueConstraint(
                fields=("centre", "name"), name="room_name_once_per_centre"
            ),
        ),
    ]
