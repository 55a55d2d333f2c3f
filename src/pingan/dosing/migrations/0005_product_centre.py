"""Each stock product belongs to a centre; one product of each strength per centre."""

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
        ("dosing", "0004_safe_prescribing"),
    ]

    operations = [
        migrations.AddField(model_name="product", name="centre", field=centre_field(null=True)),
        migrations.RunPython(fill_centre("dosing", "Product"), migrations.RunPython.noop),
        # The default (the installation's centre) lives only in Python: kept out of the
        # ALTER so that migrating never creates a centre by itself.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(model_name="product", name="centre", field=centre_field())
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="product",
                    name="centre",
                    field=centre_field(default=pingan.core.models.Centre.current),
                )
            ],
        ),
        migrations.AlterField(
            model_name="product",
            name="strength_mg_per_ml",
            field=models.DecimalField(
                decimal_places=2, max_digits=6, verbose_name="strength (mg/ml)"
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.UniqueConstraint(
                fields=("centre", "strength_mg_per_ml"), name="product_strength_once_per_centre"
            ),
        ),
    ]
