import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from dosing_factories import stocked

from pingan.dosing import actions, queries
from pingan.dosing.models import Dose, Prescription
from pingan.registry.models import Client, Episode


@pytest.mark.django_db
def test_perf(users):
    stocked(10**7, users["manager"])
    today = timezone.localdate()
    clients = Client.objects.bulk_create(
        [Client(code=f"P{i:05d}", alias="a", sex="M", birth_year=1980) for i in range(5000)]
    )
    Episode.objects.bulk_create([Episode(client=c, enrolled_on=today - timedelta(days=400)) for c in clients])
    Prescription.objects.bulk_create([Prescription(client=c, mg=60, start_on=today - timedelta(days=400), clinician=users["clinician"], reason="x") for c in clients])
    doses = []
    for d in range(1, 61):
        day = today - timedelta(days=d)
        doses += [Dose(client=c, date=day, mg=60, mg_in_clinic=60, strength_mg_per_ml=1, volume_ml=60, given_at=timezone.now()) for c in clients]
    Dose.objects.bulk_create(doses, batch_size=5000)
    t = time.perf_counter(); rows = queries.queue(today); q = time.perf_counter() - t
    times = []
    for c in clients[:200]:
        t = time.perf_counter(); assert actions.record_dose(c, users["nurse"]).ok; times.append(time.perf_counter() - t)
    times.sort()
    print(f"\nqueue rows={len(rows)} {q*1000:.0f} ms; record_dose p50 {times[100]*1000:.1f} ms p95 {times[190]*1000:.1f} ms")
