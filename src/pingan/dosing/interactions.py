"""Medicines that change what a methadone dose does: a small curated table, as data.

Methadone is cleared by the liver enzymes CYP3A4, CYP2B6 and CYP2C19. Medicines that speed
them up lower methadone levels (withdrawal within days; the dose may need to go up), those
that slow them down raise the levels (sedation, overdose, a longer QT interval), and
sedatives add to methadone's depression of breathing. The table is short on purpose: each
row is a medicine Chinese MMT clients commonly take (antiretrovirals, TB treatment,
antifungals, antibiotics, anticonvulsants, sedatives) with the source that documents it.
docs/dosing-rules.md prints the same table.

A match is a warning on the prescribe and dosing screens, never a block: the clinician
decides, usually by watching the client more closely and adjusting the dose.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

LOWERS = "lowers"
RAISES = "raises"
SEDATION = "sedation"

EFFECTS = {
    LOWERS: _("lowers methadone levels: watch for withdrawal; the dose may need to go up"),
    RAISES: _("raises methadone levels: watch for sedation and a longer QTc"),
    SEDATION: _("adds to methadone's depression of breathing: risk of overdose"),
}

LABEL = "FDA prescribing information for methadone hydrochloride (Dolophine), drug interactions"
WHO_2009 = (
    "WHO, Guidelines for the psychosocially assisted pharmacological treatment of opioid "
    "dependence (2009)"
)
FDA_2016 = (
    "FDA Drug Safety Communication, 31 August 2016: boxed warning on opioids used with "
    "benzodiazepines or other central nervous system depressants"
)
REVIEW_2010 = (
    "McCance-Katz EF, Sullivan LE, Nallani S. Drug interactions of clinical importance among "
    "the opioids, methadone and buprenorphine, and other frequently prescribed medications: "
    "a review. Am J Addict 2010;19(1):4-16"
)


@dataclass(frozen=True)
class Interaction:
    key: str
    effect: str  # LOWERS, RAISES or SEDATION
    names: tuple[str, ...]  # lower-case English and Chinese names, matched as substrings
    source: str

    @property
    def effect_text(self) -> str:
        return str(EFFECTS[self.effect])


TABLE: tuple[Interaction, ...] = (
    Interaction(
        "efavirenz",
        LOWERS,
        ("efavirenz", "依非韦伦", "stocrin"),
        "Clarke SM et al. The pharmacokinetics of methadone in HIV-positive patients "
        "receiving the non-nucleoside reverse transcriptase inhibitor efavirenz. "
        "Br J Clin Pharmacol 2001;51(3):213-7; " + WHO_2009,
    ),
    Interaction(
        "nevirapine",
        LOWERS,
        ("nevirapine", "奈韦拉平"),
        "Clarke SM et al. Pharmacokinetic interactions of nevirapine and methadone and "
        "guidelines for use of nevirapine to treat injection drug users. "
        "Clin Infect Dis 2001;33(9):1595-7; " + WHO_2009,
    ),
    Interaction(
        "rifampicin",
        LOWERS,
        ("rifampicin", "rifampin", "利福平"),
        "Kreek MJ et al. Rifampin-induced methadone withdrawal. "
        "N Engl J Med 1976;294(20):1104-6; " + WHO_2009,
    ),
    Interaction(
        "phenytoin",
        LOWERS,
        ("phenytoin", "苯妥英"),
        "Tong TG et al. Phenytoin-induced methadone withdrawal. Ann Intern Med 1981;94(3):349-51",
    ),
    Interaction("carbamazepine", LOWERS, ("carbamazepine", "卡马西平"), LABEL),
    Interaction("st_johns_wort", LOWERS, ("st john's wort", "贯叶连翘", "圣约翰草"), LABEL),
    Interaction(
        "fluconazole",
        RAISES,
        ("fluconazole", "氟康唑"),
        "Cobb MN et al. The effect of fluconazole on the clinical pharmacokinetics of "
        "methadone. Clin Pharmacol Ther 1998;63(6):655-62",
    ),
    Interaction(
        "voriconazole",
        RAISES,
        ("voriconazole", "伏立康唑"),
        "Liu P et al. Pharmacokinetic interaction between voriconazole and methadone at "
        "steady state in patients on methadone therapy. "
        "Antimicrob Agents Chemother 2007;51(1):110-8",
    ),
    Interaction("ketoconazole", RAISES, ("ketoconazole", "酮康唑"), LABEL),
    Interaction("clarithromycin", RAISES, ("clarithromycin", "克拉霉素"), LABEL),
    Interaction("erythromycin", RAISES, ("erythromycin", "红霉素"), LABEL),
    Interaction("fluvoxamine", RAISES, ("fluvoxamine", "氟伏沙明"), REVIEW_2010),
    Interaction(
        "ciprofloxacin",
        RAISES,
        ("ciprofloxacin", "环丙沙星"),
        "Herrlin K et al. Methadone, ciprofloxacin, and adverse drug reactions. "
        "Lancet 2000;356(9247):2069-70",
    ),
    Interaction(
        "benzodiazepine",
        SEDATION,
        (
            "benzodiazepine",
            "diazepam",
            "alprazolam",
            "clonazepam",
            "lorazepam",
            "estazolam",
            "triazolam",
            "midazolam",
            "苯二氮",
            "地西泮",
            "安定",
            "阿普唑仑",
            "氯硝西泮",
            "劳拉西泮",
            "艾司唑仑",
            "三唑仑",
            "咪达唑仑",
        ),
        FDA_2016,
    ),
    Interaction("alcohol", SEDATION, ("alcohol", "ethanol", "酒精", "乙醇", "饮酒"), FDA_2016),
)


def match(name: str) -> Interaction | None:
    """The table's row for a medicine as the clinician wrote it ("Efavirenz 600 mg",
    "依非韦伦片"), or None when it is not in the table."""
    text = (name or "").strip().lower()
    if not text:
        return None
    for row in TABLE:
        if any(alias in text for alias in row.names):
            return row
    return None


@dataclass(frozen=True)
class Flag:
    """A medicine the client takes now that the table knows, for the screens."""

    medicine: str
    interaction: Interaction

    @property
    def message(self) -> str:
        return gettext("%(medicine)s %(effect)s") % {
            "medicine": self.medicine,
            "effect": self.interaction.effect_text,
        }


def flags(medicine_names: list[str]) -> list[Flag]:
    """Every current medicine with an interaction, in the order given."""
    found = []
    for name in medicine_names:
        row = match(name)
        if row is not None:
            found.append(Flag(name, row))
    return found
