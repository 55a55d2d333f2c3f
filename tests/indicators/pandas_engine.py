"""The core indicator definitions re-stated in plain pandas, independently of the SQL.

A witness for the tests (test_indicator_engines.py) and the straightforward peer of the
indicator benchmark (bench/indicators.py); it is not part of the installed package, and
pandas comes with the `test` extra only. It reads the same Parquet layouts as the DuckDB
engine, through DuckDB's episode construction so both see the same episodes.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from pingan.indicators.definitions import (
    ADEQUATE_DOSE_MG,
    BY_ID,
    CORE_IDS,
    LTFU_DAYS,
    IndicatorSet,
    Period,
    anchors,
    make_result,
)
from pingan.labs.flags import METHADONE_ANALYTES
from pingan.labs.rules import OPIOID_ANALYTES


class PandasFrames:
    """ep, dose, urine and itest as DataFrames with the relation columns of sql.py."""

    def __init__(self, ep: pd.DataFrame, dose: pd.DataFrame, urine: pd.DataFrame, itest):
        self.ep, self.dose, self.urine, self.itest = ep, dose, urine, itest
        for frame, cols in (
            (ep, ["enrolled_on", "discharged_on"]),
            (dose, ["day"]),
            (urine, ["day"]),
            (itest, ["day"]),
        ):
            for c in cols:
                frame[c] = pd.to_datetime(frame[c])

    @classmethod
    def from_duck(cls, engine) -> PandasFrames:
        con = engine.con
        return cls(
            con.execute("SELECT * FROM ep").df(),
            con.execute("SELECT * FROM dose_all").df(),
            con.execute("SELECT * FROM urine").df(),
            con.execute("SELECT * FROM itest").df(),
        )


def _ts(day) -> pd.Timestamp:
    return pd.Timestamp(day)


def compute_pandas(f: PandasFrames, period: Period, ids=None) -> IndicatorSet:
    s, e = _ts(period.start), _ts(period.end)
    after = e + pd.Timedelta(days=1)
    dose = f.dose[(f.dose.day >= s) & (f.dose.day <= e)]
    active = pd.Index(dose.client.unique())
    th = pd.Index(dose.loc[dose.kind == "takehome", "client"].unique())

    ep = f.ep[
        (f.ep.enrolled_on <= e)
        & (
            f.ep.discharged_on.isna()
            | ((f.ep.discharged_on > s) & (f.ep.discharged_on > f.ep.enrolled_on))
        )
    ]
    lo = ep.enrolled_on.where(ep.enrolled_on > s, s)
    hi = ep.discharged_on.fillna(after).where(lambda v: v < after, after)
    td = ((hi - lo).dt.days).groupby(ep.client).sum()

    joined = dose.merge(f.ep, on="client")
    joined = joined[
        (joined.day >= joined.enrolled_on)
        & (joined.discharged_on.isna() | (joined.day < joined.discharged_on))
    ]
    dd = joined.groupby("client").size().reindex(td.index, fill_value=0)

    def adherence(mask) -> tuple:
        return (
            int(dd[mask].sum()),
            int(td[mask].sum()),
            int(mask.sum()),
            int((dd[mask] > 0).sum()),
        )

    in_th = td.index.isin(th)
    last = dose.sort_values("day").groupby("client").tail(1)
    ur = f.urine[(f.urine.day >= s) & (f.urine.day <= e) & f.urine.analyte.isin(OPIOID_ANALYTES)]
    smp = (
        ur.assign(pos=(ur.result == "positive").astype(int))
        .groupby(["client", "sample"], as_index=False)
        .pos.max()
    )

    def positive(frame) -> tuple:
        return (
            int(frame.pos.sum()),
            len(frame),
            frame.client.nunique(),
            frame.loc[frame.pos == 1, "client"].nunique(),
        )

    mu = f.urine[(f.urine.day >= s) & (f.urine.day <= e) & f.urine.analyte.isin(METHADONE_ANALYTES)]
    mth = (
        mu.assign(neg=(mu.result == "negative").astype(int))
        .groupby(["client", "sample"], as_index=False)
        .agg(neg=("neg", "sum"), n=("neg", "size"))
    )
    mth = mth[(mth.n == len(METHADONE_ANALYTES)) & mth.client.isin(th)]
    mth = mth.assign(neg=(mth.neg == len(METHADONE_ANALYTES)).astype(int))

    def methadone_negative() -> tuple:
        return (
            int(mth.neg.sum()),
            len(mth),
            mth.client.nunique(),
            mth.loc[mth.neg == 1, "client"].nunique(),
        )

    def tested(test: str) -> tuple:
        since = e - pd.Timedelta(days=364)
        t = f.itest[(f.itest.test == test) & (f.itest.day >= since) & (f.itest.day <= e)]
        n = int(active.isin(t.client.unique()).sum())
        return (n, len(active), len(active), n)

    def retention(months: int) -> tuple:
        an = pd.DataFrame(
            anchors(period.shift(-months), months), columns=["enrolled_on", "anchor", "win"]
        )
        for c in an:
            an[c] = pd.to_datetime(an[c])
        co = f.ep.merge(an, on="enrolled_on")
        co = co[co.discharged_on.isna() | (co.discharged_on > co.anchor)]
        window = f.dose[f.dose.day >= _ts(period.start - timedelta(days=31))].merge(
            co[["client", "anchor", "win"]], on="client"
        )
        ok = window[(window.day >= window.win) & (window.day <= window.anchor)].client.nunique()
        den = f.ep.merge(an, on="enrolled_on").client.nunique()
        return (ok, den, den, ok)

    def in_treatment_on(day: pd.Timestamp) -> pd.DataFrame:
        return f.ep[
            (f.ep.enrolled_on <= day) & (f.ep.discharged_on.isna() | (f.ep.discharged_on > day))
        ]

    gap = pd.Timedelta(days=LTFU_DAYS - 1)

    def lost_to_follow_up() -> tuple:
        """Clients in treatment on the first day; lost on a day D of the month: in
        treatment on D, enrolled LTFU_DAYS - 1 days or more before it, and no dose from
        D - (LTFU_DAYS - 1) to D. Checked day by day against each client's last dose on or
        before D."""
        st = in_treatment_on(s)
        first = (st.enrolled_on + gap).where(st.enrolled_on + gap > s, s)
        last = (st.discharged_on - pd.Timedelta(days=1)).fillna(e).where(lambda v: v < e, e)
        days = pd.DataFrame({"client": st.client, "lo": first, "hi": last})
        days = days[days.lo <= days.hi]
        days["day"] = [pd.date_range(a, b) for a, b in zip(days.lo, days.hi, strict=True)]
        days = days.explode("day")[["client", "day"]].astype({"day": "datetime64[ns]"})
        doses = f.dose[["client", "day"]].rename(columns={"day": "dosed"})
        doses = doses.astype({"dosed": "datetime64[ns]"}).sort_values("dosed")
        days = pd.merge_asof(
            days.sort_values("day"), doses, left_on="day", right_on="dosed", by="client"
        )
        lost = days[days.dosed.isna() | (days.day - days.dosed > gap)].client.nunique()
        n = st.client.nunique()
        return (lost, n, n, lost)

    def return_to_care() -> tuple:
        """Lost on the day before the month (as above); back if dosed in the month."""
        day = s - pd.Timedelta(days=1)
        st = in_treatment_on(day)
        st = st[st.enrolled_on <= day - gap]
        recent = f.dose[(f.dose.day >= day - gap) & (f.dose.day <= day)].client
        lost = pd.Index(st.client[~st.client.isin(recent)].unique())
        back = int(lost.isin(active).sum())
        return (back, len(lost), len(lost), back)

    hiv_pos = f.itest[(f.itest.test == "hiv") & (f.itest.result == "positive")]
    first = hiv_pos.groupby("client").day.min()
    new = int(((first >= s) & (first <= e)).sum())
    adequate = int((last.mg >= ADEQUATE_DOSE_MG).sum())

    rows = {
        "active_clients": lambda: (len(active), None, len(active), len(active)),
        "adherence": lambda: adherence(td.index == td.index),
        "takehome_adherence": lambda: adherence(in_th),
        "clinic_only_adherence": lambda: adherence(~in_th),
        "retention_3m": lambda: retention(3),
        "retention_6m": lambda: retention(6),
        "retention_12m": lambda: retention(12),
        "lost_to_follow_up_rate": lost_to_follow_up,
        "return_to_care_rate": return_to_care,
        "mean_dose_mg": lambda: (int(last.mg.sum()), len(last), len(last), len(last)),
        "adequate_dose_share": lambda: (adequate, len(last), len(last), adequate),
        "opiate_positive_rate": lambda: positive(smp),
        "takehome_opiate_positive_rate": lambda: positive(smp[smp.client.isin(th)]),
        "clinic_only_opiate_positive_rate": lambda: positive(smp[~smp.client.isin(th)]),
        "hiv_tested_12m": lambda: tested("hiv"),
        "hcv_tested_12m": lambda: tested("hcv"),
        "hbv_tested_12m": lambda: tested("hbv"),
        "syphilis_tested_12m": lambda: tested("syphilis"),
        "tb_screened_12m": lambda: tested("tb"),
        "hiv_new_positive": lambda: (new, None, new, new),
        "takehome_clients": lambda: (len(th), None, len(th), len(th)),
        "takehome_methadone_negative_rate": methadone_negative,
    }
    out = IndicatorSet(period)
    for ind_id in ids or CORE_IDS:
        out.results[ind_id] = make_result(BY_ID[ind_id], rows[ind_id]())
    return out
