"""Payments and refunds record how the money changed hands (cash, WeChat Pay, Alipay, bank
card); the ones taken before were all cash."""

from django.db import migrations, models


def cash_before(apps, schema_editor):
    LedgerEntry = apps.get_model("inpatient", "LedgerEntry")
    LedgerEntry.objects.filter(kind__in=["payment", "refund"]).update(payment_method="cash")


class Migration(migrations.Migration):
    dependencies = [("inpatient", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="payment_method",
            field=models.CharField(
                blank=True,
                choices=[
                    ("cash", "Cash"),
                    ("wechat", "WeChat Pay"),
                    ("alipay", "Alipay"),
                    ("bank_card", "Bank card"),
                ],
                max_length=10,
                verbose_name="payment method",
            ),
        ),
        migrations.RunPython(cash_before, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("charge", "Charge"),
                    ("credit", "Credit for unused days"),
                    ("payment", "Payment"),
                    ("refund", "Refund"),
                ],
                max_length=10,
                verbose_name="kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("payment_method", ""),
                    models.Q(
                        ("kind__in", ["payment", "refund"]),
                        ("payment_method__in", ["cash", "wechat", "alipay", "bank_card"]),
                    ),
                    _connector="OR",
                ),
                name="ledger_payment_method_valid",
            ),
        ),
    ]
