"""Moving a single-centre database into the region: every existing record of the kinds
that belong to a centre is given the installation's centre.

Used by the migrations that add `centre` to those records (registry, dosing, lockbox,
inpatient); each first adds the column as nullable, fills it with `fill_centre`, then makes
it required. The centre is the one `Centre.current()` would give: the first row, created
with the same code and name when records exist and no centre does yet.
"""

from __future__ import annotations

# The same defaults as `core.models.Centre.current()`.
DEFAULT_CODE = "PA-001"
DEFAULT_NAME = "Ping An Centre"


def fill_centre(app_label: str, model_name: str):
    """A RunPython function giving every row of `app_label.model_name` without a centre the
    installation's centre."""

    def forward(apps, schema_editor) -> None:
        model = apps.get_model(app_label, model_name)
        rows = model.objects.filter(centre__isnull=True)
        if not rows.exists():
            return
        centre_model = apps.get_model("core", "Centre")
        centre = centre_model.objects.order_by("pk").first()
        if centre is None:
            centre = centre_model.objects.create(code=DEFAULT_CODE, name=DEFAULT_NAME)
        rows.update(centre=centre)

    return forward
