"""Entries name the audit key that linked them; the entries already written keep their plain
SHA-256 links (key_id NULL) and still verify, and the first keyed entry seals them."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chain_head")]
    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="key_id",
            field=models.CharField(blank=True, max_length=8, null=True),
        ),
    ]
