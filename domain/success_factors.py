"""SKL's eight success factors of 'Framgångsrika skolkommuner' (2009) and their indicators (domain.md §5)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SuccessFactor:
    """One success factor, its Swedish and English name and the ids of its indicators."""

    id: str
    title_sv: str
    title_en: str
    indicators: tuple[str, ...]


SUCCESS_FACTORS: tuple[SuccessFactor, ...] = (
    SuccessFactor("SF1", "Har bra ledare", "Good leaders", ("SF1.a", "SF1.b", "SF1.c", "SF1.d", "SF1.e")),
    SuccessFactor(
        "SF2",
        "Lyfter fram kompetenta lärare",
        "Promotes competent teachers",
        ("SF2.a", "SF2.b", "SF2.c", "SF2.d", "SF2.e", "SF2.f", "SF2.g"),
    ),
    SuccessFactor("SF3", "Har höga förväntningar", "High expectations", ("SF3.a", "SF3.b", "SF3.c", "SF3.d", "SF3.e")),
    SuccessFactor(
        "SF4",
        "Tar reda på hur det går",
        "Finds out how things are going",
        ("SF4.a", "SF4.b", "SF4.c", "SF4.d", "SF4.e"),
    ),
    SuccessFactor(
        "SF5",
        "Har fungerande relationer",
        "Working relationships",
        ("SF5.a", "SF5.b", "SF5.c", "SF5.d", "SF5.e"),
    ),
    SuccessFactor(
        "SF6",
        "Har tydlig ansvarsfördelning",
        "Clear division of responsibility",
        ("SF6.a", "SF6.b", "SF6.c", "SF6.d"),
    ),
    SuccessFactor(
        "SF7",
        "Fångar upp elever i svårigheter",
        "Catches pupils in difficulty",
        ("SF7.a", "SF7.b", "SF7.c", "SF7.d"),
    ),
    SuccessFactor(
        "SF8",
        "Har enats om skolans mål",
        "Agreed on the school's goals",
        ("SF8.a", "SF8.b", "SF8.c", "SF8.d", "SF8.e"),
    ),
)

FACTOR_IDS: frozenset[str] = frozenset(f.id for f in SUCCESS_FACTORS)
INDICATOR_IDS: tuple[str, ...] = tuple(i for f in SUCCESS_FACTORS for i in f.indicators)


def factor_of(indicator_id: str) -> str:
    """The factor an indicator belongs to: 'SF4.e' -> 'SF4'."""
    return indicator_id.split(".", 1)[0]


# The indicators that concern the support functions (stödfunktioner: HR and finance), which LfR names as
# participants (domain.md §3). Level S scores only these; the others are outside what HR and finance see.
SUPPORT_FUNCTION_INDICATORS: frozenset[str] = frozenset(
    {
        "SF2.c",  # strategic competence development: HR plans it, finance funds it
        "SF2.d",  # development and career posts: HR sets up the posts, finance pays for them
        "SF2.f",  # awards and scholarships for teachers: HR and finance administer and fund them
        "SF2.g",  # salary setting that rewards skilled teachers: HR's own field (lönebildning)
        "SF6.b",  # clear missions per person and competence per staff category: HR's job descriptions
        "SF6.c",  # delegation order: it covers employer decisions (HR) and budget authority (finance)
    }
)

_EVERY_INDICATOR_LEVELS = frozenset({"P", "F", "R"})


def indicators_for_level(level: str) -> tuple[str, ...]:
    """The indicators a level scores, in INDICATOR_IDS order: P, F and R score all, S the support-function ones."""
    if level in _EVERY_INDICATOR_LEVELS:
        return INDICATOR_IDS
    if level == "S":
        return tuple(i for i in INDICATOR_IDS if i in SUPPORT_FUNCTION_INDICATORS)
    raise ValueError(f"unknown assessment level {level!r}; levels are P, F, R and S")
