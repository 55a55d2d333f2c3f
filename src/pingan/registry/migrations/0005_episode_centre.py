"""Each treatment episode records the centre where it ran. Episodes written before the
region had transfers ran at their client's centre, which fills them."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def centre_field(**extra):
    return models.ForeignKey(
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="core.centre",
        verbose_name="centre",
        **extra,
    )


def fill_from_client(apps, schema_editor) -> None:
    Client = apps.get_model("registry", "Client")
    Episode = apps.get_model("registry", "Episode")
    Episode.objects.filter(centre__isnull=True).update(
        centre_id=Subquery(Client.objects.filter(pk=OuterRef("client_id")).values("centre_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_closed_day"),
        ("registry", "0004_enrolment_attempt"),
    ]

    operations = [
        migrations.AddField(model_name="episode", name="centre", field=centre_field(null=True)),
        migrations.RunPython(fill_from_client, migrations.RunPython.noop),
        migrations.AlterField(model_name="episode", name="centre", field=centre_field()),
    ]
