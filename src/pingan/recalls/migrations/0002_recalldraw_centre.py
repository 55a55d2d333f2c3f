"""Each centre draws its own clients every week: a draw belongs to a centre, once a week."""

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
        ("recalls", "0001_recalls"),
    ]

    operations = [
        migrations.AddField(model_name="recalldraw", name="centre", field=centre_field(null=True)),
        migrations.RunPython(fill_centre("recalls", "RecallDraw"), migrations.RunPython.noop),
        # The default (the installation's centre) lives only in Python: kept out of the
        # ALTER so that migrating never creates a centre by itself.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(
                    model_name="recalldraw", name="centre", field=centre_field()
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="recalldraw",
                    name="centre",
                    field=centre_field(default=pingan.core.models.Centre.current),
                )
            ],
        ),
        migrations.AlterField(
            model_name="recalldraw",
            name="week",
            field=models.CharField(max_length=8, verbose_name="week"),
        ),
        migrations.AddConstraint(
            model_name="recalldraw",
            constraint=models.UniqueConstraint(
                fields=("centre", "week"), name="recall_draw_once_a_week"
            ),
        ),
    ]
