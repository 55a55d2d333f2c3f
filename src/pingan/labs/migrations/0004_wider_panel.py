"""A wider urine panel (fentanyl, tramadol, buprenorphine, benzodiazepines) and infection
tests (hepatitis B, syphilis); the database refuses analytes and tests it does not know.

SQLite cannot add a check constraint to a table: Django rebuilds `labs_urineresult`, and the
rebuild drops the triggers that keep `UrineSample.opioid` (labs 0002). They are put back
right after the rebuild, in both directions; PostgreSQL keeps its trigger."""

from django.conf import settings
from django.db import migrations, models

from pingan.labs.opioid_sql import BACKFILL, SQLITE, SQLITE_REVERSE


def reinstall_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for sql in [*SQLITE_REVERSE, *SQLITE, BACKFILL]:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("labs", "0003_sample_outcome_indexes"),
        ("registry", "0002_identity_document_type"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="infectiontest",
            options={"verbose_name": "infection test"},
        ),
        migrations.AlterField(
            model_name="infectiontest",
            name="test",
            field=models.CharField(
                choices=[
                    ("hiv", "HIV"),
                    ("hbv", "Hepatitis B"),
                    ("hcv", "Hepatitis C"),
                    ("syphilis", "Syphilis"),
                    ("tb", "Tuberculosis"),
                ],
                max_length=10,
                verbose_name="test",
            ),
        ),
        migrations.AddConstraint(
            model_name="infectiontest",
            constraint=models.CheckConstraint(
                condition=models.Q(("test__in", ["hiv", "hbv", "hcv", "syphilis", "tb"])),
                name="infection_test_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="infectiontest",
            constraint=models.CheckConstraint(
                condition=models.Q(("result__in", ["positive", "negative"])),
                name="infection_test_result_valid",
            ),
        ),
        # Undoing the constraint below rebuilds the table again: triggers back after it.
        migrations.RunPython(migrations.RunPython.noop, reinstall_sqlite_triggers),
        migrations.AlterField(
            model_name="urineresult",
            name="analyte",
            field=models.CharField(
                choices=[
                    ("opiates", "Opiates"),
                    ("morphine", "Morphine"),
                    ("fentanyl", "Fentanyl"),
                    ("tramadol", "Tramadol"),
                    ("buprenorphine", "Buprenorphine"),
                    ("methadone", "Methadone"),
                    ("eddp", "EDDP (methadone metabolite)"),
                    ("benzodiazepines", "Benzodiazepines"),
                    ("amphetamines", "Amphetamines"),
                    ("methamphetamine", "Methamphetamine"),
                    ("ketamine", "Ketamine"),
                ],
                max_length=20,
                verbose_name="analyte",
            ),
        ),
        migrations.AddConstraint(
            model_name="urineresult",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "analyte__in",
                        [
                            "opiates",
                            "morphine",
                            "fentanyl",
                            "tramadol",
                            "buprenorphine",
                            "methadone",
                            "eddp",
                            "benzodiazepines",
                            "amphetamines",
                            "methamphetamine",
                            "ketamine",
                        ],
                    )
                ),
                name="urine_analyte_known",
            ),
        ),
        migrations.RunPython(reinstall_sqlite_triggers, migrations.RunPython.noop),
    ]
