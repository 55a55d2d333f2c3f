"""Each urine sample's opioid outcome, kept by the database from its results (opioid_sql)."""

from django.db import migrations, models

from pingan.labs.opioid_sql import BACKFILL, POSTGRES, POSTGRES_REVERSE, SQLITE, SQLITE_REVERSE


def forwards(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for sql in [*(POSTGRES if postgres else SQLITE), BACKFILL]:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for sql in POSTGRES_REVERSE if postgres else SQLITE_REVERSE:
        schema_editor.execute(sql)



class Migration(migrations.Migration):

    dependencies = [
        ('labs', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='urinesample',
            name='opioid',
            field=models.SmallIntegerField(editable=False, null=True),
        ),
        migrations.RunPython(forwards, backwards),
    ]
