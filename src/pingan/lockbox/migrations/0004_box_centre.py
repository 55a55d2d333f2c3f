"""Each lockbox belongs to a centre (its number stays unique in the installation)."""

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
        ("lockbox", "0003_alert_not_opened"),
    ]

    operations = [
        migrations.AddField(model_name="box", name="centre", field=centre_field(null=True)),
        migrations.RunPython(fill_centre("lockbox", "Box"), migrations.RunPython.noop),
        # The default (the installation's centre) lives only in Python: kept out of the
        # ALTER so that migrating never creates a centre by itself.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(model_name="box", name="centre", field=centre_field())
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="box",
                    name="centre",
                    field=centre_field(default=pingan.core.models.Centre.current),
                )
            ],
        ),
    ]
