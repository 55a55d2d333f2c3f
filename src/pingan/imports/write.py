"""Writing a checked plan: bulk inserts in batches, inside the caller's transaction.

Legacy doses write no stock ledger lines: the old system's stock is not known, and
inventing receipts to cover them would corrupt the ledger's running balance."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils.translation import pgettext_lazy
from tqdm import tqdm

from pingan.core import clock
from pingan.core.models import Centre
from pingan.dosing.models import Dose, Product
from pingan.labs.models import InfectionTest, UrineResult, UrineSample
from pingan.registry.actions import national_id_index, phone_index
from pingan.registry.models import Client, Episode, Identity

from .validate import CHUNK, Plan, chunks, discharge_reason

BATCH = 2000
LEGACY_DOSE_HOUR = time(9, 0)
PRC_ID = re.compile(r"^\d{17}[\dXx]$")
_HAS_DOCUMENT_TYPE = any(f.name == "document_type" for f in Identity._meta.get_fields())

# What the import writes, as the operator reads it on the progress bars and in the closing
# count; the keys are the audit entry's, which stay the same in every language.
KINDS = {
    "clients": pgettext_lazy("imported records", "clients"),
    "identities": pgettext_lazy("imported records", "identities"),
    "episodes": pgettext_lazy("imported records", "treatment episodes"),
    "discharges": pgettext_lazy("imported records", "discharges"),
    "doses": pgettext_lazy("imported records", "doses"),
    "urine_samples": pgettext_lazy("imported records", "urine samples"),
    "urine_results": pgettext_lazy("imported records", "urine results"),
    "tests": pgettext_lazy("imported records", "infection tests"),
}


def _bulk(model, objs: list, kind: str, progress: bool) -> None:
    desc = str(KINDS[kind])
    with tqdm(total=len(objs), desc=desc, unit="row", disable=not progress, leave=False) as bar:
        for i in range(0, len(objs), BATCH):
            batch = objs[i : i + BATCH]
            model.objects.bulk_create(batch)
            bar.update(len(batch))


def _insert_rows(model, rows: list[dict], kind: str, progress: bool) -> None:
    """INSERT many rows with one prepared statement (executemany), or COPY on PostgreSQL.

    Why not bulk_create for the big tables: it prepares every value of every row through
    the field machinery, which is most of the time for ~100k doses. Legacy rows repeat
    the same dates, doses and clients, so each distinct value is prepared once here and
    reused. Rows are dicts of field attname -> value; other fields take their default."""
    desc = str(KINDS[kind])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    uuid_field = next((f for f in fields if f.attname == "external_id"), None)
    now = clock.now()
    defaults = {
        f.attname: now if getattr(f, "auto_now_add", False) else f.get_default()
        for f in fields
        if f is not uuid_field
    }
    memo: dict[tuple[str, object], object] = {}
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    copy_sql = f"COPY {table} ({columns}) FROM STDIN"

    def prep(field, value):
        key = (field.attname, value)
        if key not in memo:
            memo[key] = field.get_db_prep_save(value, connection)
        return memo[key]

    with (
        tqdm(total=len(rows), desc=desc, unit="row", disable=not progress, leave=False) as bar,
        connection.cursor() as cursor,
    ):
        for i in range(0, len(rows), BATCH):
            params = []
            for row in rows[i : i + BATCH]:
                values = []
                for f in fields:
                    if f is uuid_field:  # unique per row: no point memoising
                        value = row.get(f.attname) or uuid.uuid4()
                        values.append(f.get_db_prep_save(value, connection))
                        continue
                    value = row[f.attname] if f.attname in row else defaults[f.attname]
                    values.append(prep(f, value))
                params.append(values)
            if connection.vendor == "postgresql":
                # COPY: the bulk path PostgreSQL is built for (the psycopg cursor under
                # Django's wrapper; same transaction).
                with cursor.cursor.copy(copy_sql) as copy:
                    for values in params:
                        copy.write_row(values)
            else:
                cursor.executemany(sql, params)
            bar.update(len(params))


def _identity(client_id: int, fields: dict[str, str]) -> Identity:
    identity = Identity(
        client_id=client_id,
        name=fields.get("name", ""),
        national_id=fields.get("national_id", ""),
        phone=fields.get("phone", ""),
        address=fields.get("address", ""),
    )
    if identity.phone:
        identity.phone_index = phone_index(identity.phone)
    number = fields.get("national_id", "")
    if number:
        identity.national_id_index = national_id_index(number)
        if _HAS_DOCUMENT_TYPE:
            identity.document_type = "prc_id" if PRC_ID.match(number) else "other"
    return identity


def default_strength() -> Decimal:
    """The strength of the centre's methadone solution in use, else 1 mg/ml."""
    product = Product.objects.filter(active=True).order_by("pk").first()
    return product.strength_mg_per_ml if product else Decimal("1")


def write(plan: Plan, progress: bool, centre: Centre | None = None) -> dict[str, int]:
    created: dict[str, int] = {}
    # An import fills one centre, by default the installation's (legacy systems kept one
    # centre each).
    centre = centre or Centre.current()
    _bulk(
        Client,
        [
            Client(centre=centre, code=c.code, alias=c.alias, sex=c.sex, birth_year=c.birth_year)
            for c in plan.clients
        ],
        "clients",
        progress,
    )
    ids = dict(plan.db_clients)
    for chunk in chunks([c.code for c in plan.clients], CHUNK):
        ids.update(Client.objects.filter(centre=centre, code__in=chunk).values_list("code", "pk"))
    created["clients"] = len(plan.clients)

    identities = [_identity(ids[c.code], c.identity) for c in plan.clients if c.identity]
    _bulk(Identity, identities, "identities", progress)
    created["identities"] = len(identities)

    episodes = []
    for c in plan.clients:
        d = plan.discharges.get(c.code)
        reason, note = discharge_reason(d.reason) if d else ("", "")
        episodes.append(
            Episode(
                client_id=ids[c.code],
                centre=centre,
                enrolled_on=c.enrolled_on,
                discharged_on=d.date if d else None,
                discharge_reason=reason,
                discharge_note=note,
            )
        )
    _bulk(Episode, episodes, "episodes", progress)
    closing = []
    for pk, d in plan.closed_episodes:
        reason, note = discharge_reason(d.reason)
        closing.append(
            Episode(pk=pk, discharged_on=d.date, discharge_reason=reason, discharge_note=note)
        )
    Episode.objects.bulk_update(
        closing, ["discharged_on", "discharge_reason", "discharge_note"], batch_size=CHUNK
    )
    created["episodes"] = len(episodes)
    created["discharges"] = len(plan.discharges) + len(closing)

    created["doses"] = _write_doses(plan, ids, progress)
    created["urine_samples"], created["urine_results"] = _write_urine(plan, ids, progress)

    _insert_rows(
        InfectionTest,
        [
            {"client_id": ids[t.code], "tested_on": t.date, "test": t.test, "result": t.result}
            for t in plan.tests
        ],
        "tests",
        progress,
    )
    created["tests"] = len(plan.tests)
    return created


def _write_doses(plan: Plan, ids: dict[str, int], progress: bool) -> int:
    strength = default_strength()
    tz = ZoneInfo(settings.TIME_ZONE)
    cent = Decimal("0.01")
    volumes: dict[int, Decimal] = {}
    given: dict = {}
    doses = []
    for d in plan.doses:
        volume = volumes.get(d.mg)
        if volume is None:
            volume = volumes[d.mg] = (Decimal(d.mg) / strength).quantize(cent, ROUND_HALF_UP)
        home = d.kind == "takehome"
        given_at = given.get(d.date)
        if given_at is None:
            given_at = given[d.date] = datetime.combine(d.date, LEGACY_DOSE_HOUR, tz)
        doses.append(
            {
                "external_id": None,
                "client_id": ids[d.code],
                "date": d.date,
                "kind": d.kind,
                "mg": d.mg,
                "strength_mg_per_ml": strength,
                "volume_ml": volume,
                "mg_in_clinic": 0 if home else d.mg,
                "mg_taken_home": d.mg if home else 0,
                "given_at": given_at,
                "note": "",
            }
        )
    _insert_rows(Dose, doses, "doses", progress)
    return len(doses)


def _write_urine(plan: Plan, ids: dict[str, int], progress: bool) -> tuple[int, int]:
    """Rows with the same client and date form one sample with several results. Each
    sample gets its external id here so the results can find it without a query per row."""
    samples, keyed = [], {}
    for (code, day), rows in plan.urine.items():
        external_id = uuid.uuid4()
        samples.append({"external_id": external_id, "client_id": ids[code], "collected_on": day})
        keyed[external_id] = rows
    _insert_rows(UrineSample, samples, "urine_samples", progress)
    pks: dict[uuid.UUID, int] = {}
    for chunk in chunks(list(keyed), CHUNK):
        pks.update(
            UrineSample.objects.filter(external_id__in=chunk).values_list("external_id", "pk")
        )
    results = [
        {"sample_id": pks[ext], "analyte": r.analyte, "result": r.result}
        for ext, rows in keyed.items()
        for r in rows
    ]
    _insert_rows(UrineResult, results, "urine_results", progress)
    return len(samples), len(results)
