"""A seeded, streaming model of a methadone maintenance centre (the centre docs/demo.md describes).

Each client is simulated on their own random stream, seeded from (seed, client number), so
the same seed gives the same centre byte for byte, client 17 is the same client whether 40
or 350,000 are generated, and nothing but one client's history is ever held in memory.

What the model reproduces, because indicators and the take-home engine depend on it:
- about 90% men, born 1960-2000, a core of long-term clients enrolled years before the
  period and new enrolments spread over it (with induction from 30 mg up to a target);
- attendance as runs: most clients come 85-99% of days, chaotic ones miss for days at a
  time; after 3+ missed days the dose is cut, after 5+ the client is re-inducted;
- doses 30-120 mg drifting with prescription changes; a few clients taper to completion;
- drop-outs and other exits leading to discharges with a reason, some re-enrolments;
- a stable subgroup on take-home doses in the later months: a clinic visit then 2-6
  take-home days, the run length growing with time in treatment;
- about two urine samples per client per month (opiates, morphine, methadone), the
  opioid-positive rate falling with time in treatment;
- HIV / HCV / TB tests about yearly (HCV common, HIV a few percent);
- Chinese aliases and, for most clients, a synthetic identity.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from . import identity as ident

CLINIC, TAKEHOME = "clinic", "takehome"
URINE_ANALYTES = ("opiates", "morphine", "methadone")
EXIT_REASONS = (
    ("dropped_out", 0.60),
    ("detained", 0.15),
    ("moved", 0.08),
    ("transferred", 0.07),
    ("rules", 0.04),
    ("died", 0.02),
    ("other", 0.04),
)
RETURNING_REASONS = frozenset({"dropped_out", "detained", "rules"})


@dataclass(frozen=True)
class Profile:
    """How a kind of client attends and uses: the knobs of the simulation."""

    name: str
    miss: tuple[float, float]  # chance of missing a clinic day, drawn per client
    stay_away: tuple[float, float]  # chance that a gap goes on another day
    exit_per_day: float  # hazard of leaving treatment
    positive_floor: float  # long-run chance of an opioid-positive sample


STABLE = Profile("stable", (0.004, 0.03), (0.2, 0.4), 0.00015, 0.03)
TYPICAL = Profile("typical", (0.02, 0.07), (0.3, 0.5), 0.0007, 0.12)
CHAOTIC = Profile("chaotic", (0.05, 0.15), (0.6, 0.85), 0.0025, 0.35)


@dataclass(frozen=True)
class CentreSpec:
    clients: int
    days: int
    start: date
    seed: int = 2026
    code_prefix: str = "PA-"
    core_share: float = 0.6  # clients already in treatment when the period starts
    identity_share: float = 0.6  # clients who gave an identity (the rest are anonymous)

    @property
    def end(self) -> date:
        """The last day of the period (inclusive)."""
        return self.start + timedelta(days=self.days - 1)


@dataclass
class EpisodeHistory:
    """One enrolment. Days are numbers counted from the period's first day (may be < 0)."""

    enrolled: int
    discharged: int | None = None
    reason: str = ""


@dataclass
class ClientHistory:
    number: int
    code: str
    alias: str
    sex: str
    birth_year: int
    identity: tuple[str, str, str, str] | None
    profile: str
    takehome: bool = False
    episodes: list[EpisodeHistory] = field(default_factory=list)
    doses: list[tuple[int, int, str]] = field(default_factory=list)  # (day, mg, kind)
    urine: list[tuple[int, str, str]] = field(default_factory=list)  # (day, analyte, result)
    tests: list[tuple[int, str, str]] = field(default_factory=list)  # (day, test, result)


def _round5(mg: float) -> int:
    return int(round(mg / 5.0)) * 5


def _geometric(rng: random.Random, p_continue: float) -> int:
    """Length (>= 1) of a run that goes on each day with probability p_continue."""
    if p_continue <= 0:
        return 1
    return 1 + int(math.log(1.0 - rng.random()) / math.log(p_continue))


def _days_until(rng: random.Random, hazard: float) -> int:
    """Days until an event with a constant daily hazard."""
    return 1 + int(rng.expovariate(hazard))


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    x = rng.random()
    for value, weight in weighted:
        x -= weight
        if x < 0:
            return value
    return weighted[-1][0]


class _Episode:
    """Simulates one episode day by day; kept as a class so the loop state has names."""

    def __init__(self, rng: random.Random, client: ClientHistory, profile: Profile, enrol: int):
        self.rng, self.client, self.profile, self.enrol = rng, client, profile, enrol
        self.miss = rng.uniform(*profile.miss)
        self.stay_away = rng.uniform(*profile.stay_away)
        self.target = max(30, min(120, _round5(rng.gauss(70, 18))))
        self.clinic_days: list[int] = []

    def run(self, days: int) -> EpisodeHistory:
        rng, client, enrol = self.rng, self.client, self.enrol
        episode = EpisodeHistory(enrolled=enrol)
        first = max(enrol, 0)
        stabilised = enrol <= -30
        mg = self.target if stabilised else 30
        exit_day = first + _days_until(rng, self.profile.exit_per_day)
        if not stabilised and rng.random() < 0.15:
            exit_day = min(exit_day, first + rng.randint(3, 90))  # early drop-out
        taper_from = None
        if self.profile is STABLE and not client.takehome and rng.random() < 0.05:
            taper_from = first + rng.randrange(0, max(1, days - first))
        takehome_from = None
        if client.takehome:
            takehome_from = max(enrol + 90, days - rng.randint(45, 240))
        next_step = first + 3
        next_change = first + rng.randint(45, 150)
        next_taper = taper_from
        away_left = missed = takehome_left = 0
        doses = client.doses
        day = first
        while day < days:
            if day >= exit_day:
                break
            if takehome_left:
                doses.append((day, mg, TAKEHOME))
                takehome_left -= 1
                day += 1
                continue
            if away_left:
                away_left -= 1
                missed += 1
                day += 1
                continue
            if rng.random() < self.miss:
                away_left = _geometric(rng, self.stay_away) - 1
                missed += 1
                day += 1
                continue
            # The client is at the counter today.
            returning = missed
            if missed >= 5:
                mg = max(30, _round5(mg * 0.5))  # re-induction after a long gap
                next_step = day + 3
            elif missed >= 3:
                mg = max(30, mg - 10)  # reduced at the clinician's review
                next_step = day + 3
            missed = 0
            if next_taper is not None and day >= next_taper:
                mg -= 5
                next_taper = day + 7
                if mg < 5:
                    episode.discharged, episode.reason = day, "completed"
                    break
            elif day >= next_change:
                self.target = max(30, min(120, self.target + rng.choice((-10, -5, 5, 5, 10))))
                next_change = day + rng.randint(45, 150)
            if next_taper is None and mg != self.target and day >= next_step:
                step = rng.choice((5, 10))
                mg = (
                    min(self.target, mg + step) if mg < self.target else max(self.target, mg - step)
                )
                next_step = day + 3
            doses.append((day, mg, CLINIC))
            self.clinic_days.append(day)
            covered = 1
            if takehome_from is not None and day >= takehome_from:
                tenure = day - enrol
                longest = 6 if tenure >= 365 else 4 if tenure >= 180 else 2
                takehome_left = min(rng.randint(2, longest), days - day - 1)
                covered += takehome_left
            if rng.random() < covered * 2 / 30:
                if self._urine(day, returning, takehome_from is not None and day >= takehome_from):
                    # A positive sample suspends take-home for a month.
                    takehome_left = 0
                    takehome_from = day + 30 if takehome_from is not None else None
            day += 1
        if episode.discharged is None and exit_day < days:
            episode.reason = _pick(rng, EXIT_REASONS)
            delay = {"dropped_out": (15, 60), "detained": (1, 14), "other": (1, 30)}.get(
                episode.reason, (1, 7)
            )
            discharged = exit_day + rng.randint(*delay)
            if discharged < days:
                episode.discharged = discharged
            else:
                episode.reason = ""  # still on the books, with a gap right now
        self._tests(episode, days)
        return episode

    def _urine(self, day: int, returning: int, takehome: bool) -> bool:
        """Record one sample; returns True when it is opioid-positive."""
        rng = self.rng
        floor = 0.01 if takehome else self.profile.positive_floor
        p = floor + (0.65 - floor) * math.exp(-(day - self.enrol) / 120)
        if returning >= 3:
            p = max(p, 0.5)
        opioid = rng.random() < p
        morphine = opioid and rng.random() < 0.85
        methadone = rng.random() < 0.97
        urine = self.client.urine
        urine.append((day, "opiates", "positive" if opioid else "negative"))
        urine.append((day, "morphine", "positive" if morphine else "negative"))
        urine.append((day, "methadone", "positive" if methadone else "negative"))
        return opioid

    def _tests(self, episode: EpisodeHistory, days: int) -> None:
        """HIV, HCV and TB about once a year, on a day the client came to the clinic."""
        if not self.clinic_days:
            return
        rng, client, clinic_days = self.rng, self.client, self.clinic_days
        if self.enrol >= 0:
            due = self.enrol + rng.randint(0, 14)
        else:
            due = rng.randrange(0, min(365, days))
        index = 0
        while True:
            while index < len(clinic_days) and clinic_days[index] < due:
                index += 1
            if index >= len(clinic_days):
                return
            day = clinic_days[index]
            for test in ("hiv", "hcv", "tb"):
                status = client_status(client, test)
                if status == "positive" and any(t[1] == test for t in client.tests):
                    continue  # a known positive is not re-screened
                result = (
                    status if test != "tb" else ("positive" if rng.random() < 0.01 else "negative")
                )
                client.tests.append((day, test, result))
            due = day + rng.randint(330, 400)


def client_status(client: ClientHistory, test: str) -> str:
    """A client's lifelong HIV / HCV status, drawn once from their number (prevalence among
    people who inject drugs in Yunnan: HCV about 60%, HIV a few percent)."""
    rng = random.Random(f"status:{client.code}:{test}")
    prevalence = {"hiv": 0.05, "hcv": 0.6}.get(test, 0.0)
    return "positive" if rng.random() < prevalence else "negative"


def simulate_client(config: CentreSpec, number: int) -> ClientHistory:
    """The whole history of client `number` (0-based) over the period."""
    rng = random.Random(config.seed * 1_000_003 + number)
    draw = rng.random()
    sex = "M" if draw < 0.9 else "F" if draw < 0.995 else "X"
    birth_year = min(2000, max(1960, int(round(rng.triangular(1960, 2000, 1975)))))
    code = f"{config.code_prefix}{number + 1:06d}"
    identity = None
    if rng.random() < config.identity_share:
        identity = ident.identity(rng, "M" if sex == "X" else sex, birth_year)
    core = rng.random() < config.core_share
    kinds = (0.55, 0.35) if core else (0.2, 0.5)
    draw = rng.random()
    profile = STABLE if draw < kinds[0] else TYPICAL if draw < kinds[0] + kinds[1] else CHAOTIC
    client = ClientHistory(
        number=number,
        code=code,
        alias=ident.alias(rng, sex, birth_year),
        sex=sex,
        birth_year=birth_year,
        identity=identity,
        profile=profile.name,
        takehome=profile is STABLE and rng.random() < 0.8,
    )
    enrol = -rng.randint(30, 8 * 365) if core else rng.randrange(0, config.days)
    while True:
        episode = _Episode(rng, client, profile, enrol).run(config.days)
        client.episodes.append(episode)
        if episode.discharged is None or episode.reason not in RETURNING_REASONS:
            break
        if rng.random() >= 0.3:
            break
        enrol = episode.discharged + rng.randint(14, 120)
        if enrol >= config.days - 7:
            break
        profile = TYPICAL if profile is STABLE else profile
        client.takehome = False  # a returning client earns take-home again from scratch
    return client


def generate(config: CentreSpec) -> Iterator[ClientHistory]:
    """Every client's history in code order, one at a time."""
    for number in range(config.clients):
        yield simulate_client(config, number)
