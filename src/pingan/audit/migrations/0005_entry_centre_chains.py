"""One chain per centre. The entries already written stay exactly as they are (hashes
unchanged) and form the region's chain (`centre` NULL), with its head the existing head
row; each centre's chain starts at the genesis link with its first entry. `seq` becomes
unique within a chain instead of across the table."""

import django.db.models.deletion
from django.core.management.color import no_style
from django.db import migrations, models
from django.db.models.functions import Coalesce

from pingan.audit.guard import SQLITE, SQLITE_REVERSE


def guard_again(apps, schema_editor):
    """SQLite rebuilds the table to change its unique constraints, and the rebuild drops
    the append-only triggers: put them back. PostgreSQL's trigger is on the table itself
    and stays."""
    if schema_editor.connection.vendor != "postgresql":
        for sql in [*SQLITE_REVERSE, *SQLITE]:
            schema_editor.execute(sql)


def heads_numbered_after_the_first(apps, schema_editor):
    """The single head row was made with id 1 by hand, which PostgreSQL's id sequence did
    not count: without this, the first centre's head would be given id 1 too."""
    connection = schema_editor.connection
    for sql in connection.ops.sequence_reset_sql(no_style(), [apps.get_model("audit", "AuditHead")]):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_entry_key_id"),
        ("core", "0002_closed_day"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="auditentry",
            options={
                "ordering": ["id"],
                "verbose_name": "audit entry",
                "verbose_name_plural": "audit entries",
            },
        ),
        migrations.AddField(
            model_name="auditentry",
            name="centre",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.centre",
            ),
        ),
        migrations.AddField(
            model_name="audithead",
            name="centre",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.centre",
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="seq",
            field=models.PositiveBigIntegerField(verbose_name="sequence"),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(
                fields=("centre", "seq"), name="audit_seq_per_centre"
            ),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(("centre__isnull", True)),
                fields=("seq",),
                name="audit_seq_region",
            ),
        ),
        migrations.AddConstraint(
            model_name="audithead",
            constraint=models.UniqueConstraint(
                Coalesce("centre", models.Value(0)), name="audit_one_head_per_chain"
            ),
        ),
        migrations.RunPython(guard_again, migrations.RunPython.noop),
        migrations.RunPython(heads_numbered_after_the_first, migrations.RunPython.noop),
    ]
