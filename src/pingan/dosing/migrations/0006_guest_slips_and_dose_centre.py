"""Guest slips, and where each dose was given (existing doses: at the client's centre)."""

import datetime
import uuid

import django.db.models.deletion
import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models


def doses_at_their_clients_centre(apps, schema_editor) -> None:
    dose = apps.get_model("dosing", "Dose")
    client = apps.get_model("registry", "Client")
    home = client.objects.filter(pk=models.OuterRef("client_id")).values("centre_id")[:1]
    dose.objects.filter(centre__isnull=True).update(centre_id=models.Subquery(home))


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_closed_day"),
        ("dosing", "0005_product_centre"),
        ("registry", "0003_client_centre"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="dose",
            name="centre",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.centre",
                verbose_name="given at",
            ),
        ),
        migrations.RunPython(doses_at_their_clients_centre, migrations.RunPython.noop),
        migrations.CreateModel(
            name="GuestSlip",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("external_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                ("valid_from", models.DateField(verbose_name="first day")),
                ("valid_to", models.DateField(verbose_name="last day")),
                ("dose_mg", models.PositiveSmallIntegerField(verbose_name="dose (mg)")),
                ("issued_at", models.DateTimeField(verbose_name="issued at")),
                ("cancelled_at", models.DateTimeField(blank=True, null=True)),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="guest_slips",
                        to="registry.client",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="created by",
                    ),
                ),
                (
                    "host",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.centre",
                        verbose_name="host centre",
                    ),
                ),
                (
                    "issued_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "guest slip",
                "ordering": ["client", "valid_from"],
                "indexes": [
                    models.Index(
                        fields=["host", "valid_from"], name="dosing_gues_host_id_a12836_idx"
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("valid_to__gte", models.F("valid_from"))),
                        name="guest_slip_days_in_order",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "valid_to__lte",
                                models.ExpressionWrapper(
                                    django.db.models.expressions.CombinedExpression(
                                        models.F("valid_from"),
                                        "+",
                                        models.Value(datetime.timedelta(days=29)),
                                    ),
                                    output_field=models.DateField(),
                                ),
                            )
                        ),
                        name="guest_slip_at_most_30_days",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("dose_mg__gte", 1), ("dose_mg__lte", 400)),
                        name="guest_slip_mg_range",
                    ),
                ],
            },
        ),
    ]
