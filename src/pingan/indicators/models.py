"""Models of the indicators app."""

from django.db import models


class KeptSet(models.Model):
    """The last indicator set the server's background pass computed for one month and one
    scope (the pooled region or one centre), kept in the database so a server that has
    just started shows it, marked with the time it stands at, while its first pass
    recomputes every month (`freshness.month_sets`). Figures only, the full unsuppressed
    set as the screens show it to centre staff and the CDC; no client is named in it.
    Derived data: deleting every row loses nothing but that head start."""

    scope = models.CharField(max_length=20)  # "region" or "centre<id>" (freshness._scope)
    period = models.CharField(max_length=7)  # YYYY-MM
    computed_at = models.DateTimeField()
    results = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "period"], name="kept_set_once_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.period}"
