"""SKL's eight success factors of 'Framgångsrika skolkommuner' (2009) and their indicators.

The factors come from SKL's report "Konsten att nå resultat – erfarenheter från framgångsrika skolkommuner"
(Analys Öppna jämförelser grundskola 2009) and SKL's page on it; the indicator ids (SF1.a …) are Leda's.
"""

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
# participants. Level S scores only these; the others are outside what HR and finance see.
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


# What each indicator means, shown beside the 1–4 score in the assessment form: indicator id -> (Swedish, English).
# The Swedish follows SKL's wording of the factors in its 'Framgångsrika skolkommuner' material, with its bullet
# fragments made into sentences; the English is a translation of it. Level markers such as "(P/F)" are left out.
INDICATOR_TEXTS: dict[str, tuple[str, str]] = {
    "SF1.a": (
        "Politiken tar ansvar för resultaten, ställer rätt frågor och ändrar inte mål och strategier för ofta.",
        "Politicians take responsibility for results, ask the right questions and do not change goals and strategies "
        "too often.",
    ),
    "SF1.b": (
        "Tydlig rollfördelning samt ett förtroende mellan politiker och tjänstemän.",
        "Clear division of roles and trust between politicians and officials.",
    ),
    "SF1.c": (
        "Förvaltningschefen skapar förutsättningar för rektorerna att leda verksamheten, verkar för ett gott "
        "samarbetsklimat och följer upp resultaten.",
        "The head of administration creates conditions for principals to lead, fosters a good climate for "
        "collaboration and follows up results.",
    ),
    "SF1.d": (
        "Rektorerna tar – och vill ta – ett pedagogiskt ledarskap och fokuserar på läroplansuppdraget.",
        "Principals take, and want to take, pedagogical leadership and focus on the curriculum mission.",
    ),
    "SF1.e": (
        "Ett dynamiskt samarbete i rektorsgruppen där rektorerna involveras och tar ett gemensamt ansvar för helheten.",
        "The principals' group collaborates dynamically, and principals are involved in and take joint responsibility "
        "for the whole.",
    ),
    "SF2.a": (
        "Har en syn på att alla lärare kan utvecklas.",
        "A view that all teachers can develop.",
    ),
    "SF2.b": (
        "Utmanar Jantelagen och lyfter fram framgångsrika lärare och arbetssätt.",
        "Challenges the Law of Jante and highlights successful teachers and working methods.",
    ),
    "SF2.c": (
        "Strategisk kompetensutveckling.",
        "Strategic competence development.",
    ),
    "SF2.d": (
        "Utvecklings- och karriärtjänster inom strategiska områden.",
        "Development and career posts in strategic areas.",
    ),
    "SF2.e": (
        "Stimulerar lärare att lära av varandra.",
        "Stimulates teachers to learn from each other.",
    ),
    "SF2.f": (
        "Använder utmärkelser och stipendier för enskilda lärare och skolor.",
        "Uses awards and scholarships for individual teachers and schools.",
    ),
    "SF2.g": (
        "Använder lönesättningen som ett instrument för att premiera duktiga lärare.",
        "Uses salary setting as an instrument to reward skilled teachers.",
    ),
    "SF3.a": (
        "Höga förväntningar på skolans resultat oavsett förutsättningar.",
        "High expectations of the school's results regardless of circumstances.",
    ),
    "SF3.b": (
        "Höga krav på att alla elever ska lyckas.",
        "High demands that all pupils succeed.",
    ),
    "SF3.c": (
        "Höga förväntningar på alla i organisationen – elever, lärare, tjänstemän och politiker.",
        "High expectations of everyone in the organisation: pupils, teachers, officials and politicians.",
    ),
    "SF3.d": (
        "Aktivt arbete med attityder och värderingar som handlar om att ha höga förväntningar.",
        "Active work on attitudes and values about having high expectations.",
    ),
    "SF3.e": (
        "Höga ambitioner med skolan som helhet – skolan är viktig!",
        "High ambitions for the school as a whole: school matters!",
    ),
    "SF4.a": (
        "Uppföljning av såväl kunskapsresultat som andra, mer ”mjuka” värden.",
        "Follow-up of both knowledge results and other, “softer” values.",
    ),
    "SF4.b": (
        "Uppföljningarna och utvärderingarna används som ett verktyg för skolutveckling.",
        "Follow-ups and evaluations are used as a tool for school development.",
    ),
    "SF4.c": (
        "Screening och tester genomförs regelbundet i olika ämnen.",
        "Screening and tests are carried out regularly in different subjects.",
    ),
    "SF4.d": (
        "System för återkoppling av resultaten i kombination med krav på utveckling och förbättring.",
        "A system for feeding back results, combined with demands for development and improvement.",
    ),
    "SF4.e": (
        "Politikerna tar aktiv del av uppföljningen och för diskussioner om skolans resultat.",
        "Politicians take active part in follow-up and discuss the school's results.",
    ),
    "SF5.a": (
        "Arbetar för att få väl fungerande relationer inom hela verksamheten.",
        "Works for well-functioning relationships throughout the organisation.",
    ),
    "SF5.b": (
        "Aktivt arbete för att alla relationer ska präglas av ett respektfullt förhållningssätt och god kommunikation.",
        "Active work so that all relationships are marked by a respectful attitude and good communication.",
    ),
    "SF5.c": (
        "Aktivt värdegrundsarbete.",
        "Active values work.",
    ),
    "SF5.d": (
        "Formulerar tydligt vad som förväntas av olika uppdrag, till exempel som medarbetare och chef.",
        "Clearly states what is expected of different roles, for example as employee and as manager.",
    ),
    "SF5.e": (
        "Gemensamma förhållningssätt, till exempel att visa enad front utåt.",
        "Common approaches, for example presenting a united front externally.",
    ),
    "SF6.a": (
        "Tydlig ansvars- och rollfördelning mellan politiker, tjänstemän och rektorer.",
        "Clear division of responsibility and roles between politicians, officials and principals.",
    ),
    "SF6.b": (
        "Tydligt formulerat inte bara var och ens uppdrag, utan också varje personalkategoris kompetens.",
        "Clearly formulated not only each person's mission but also each staff category's competence.",
    ),
    "SF6.c": (
        "Tydlig delegationsordning.",
        "Clear delegation order.",
    ),
    "SF6.d": (
        "Skriftliga överenskommelser med förvaltningschefer och rektorer med utgångspunkt i uppdraget att förbättra "
        "elevernas resultat.",
        "Written agreements with heads of administration and principals, based on the mission to improve pupils' "
        "results.",
    ),
    "SF7.a": (
        "Det finns rutiner för att tidigt upptäcka elever som inte når målen, till exempel i form av "
        "kunskapskontroller.",
        "There are routines to detect early the pupils who are not reaching the goals, for example knowledge checks.",
    ),
    "SF7.b": (
        "Rutiner för insatser kopplade till dessa kunskapskontroller.",
        "Routines for interventions linked to these knowledge checks.",
    ),
    "SF7.c": (
        "Tillgång till elevhälsans kompetenser.",
        "Access to the competencies of the student health services.",
    ),
    "SF7.d": (
        "Det finns ett inkluderande synsätt där det särskilda stödet i första hand ska ges i klassrummet.",
        "There is an inclusive approach in which special support is given primarily in the classroom.",
    ),
    "SF8.a": (
        "En samsyn, med kontinuitet, om mål och inriktning för verksamheten.",
        "A shared view, with continuity, on the goals and direction of the operation.",
    ),
    "SF8.b": (
        "Samsynen är horisontell – de politiska partierna är enade om övergripande mål och strategier.",
        "The shared view is horizontal: the political parties agree on overall goals and strategies.",
    ),
    "SF8.c": (
        "Samsynen är vertikal – från politiker till tjänstemän och rektorer finns en gemensam syn på uppdraget.",
        "The shared view is vertical: politicians, officials and principals share a view of the mission.",
    ),
    "SF8.d": (
        "Samsynen underlättas av god kommunikation och ömsesidigt förtroende, till exempel genom forum för dialog och "
        "samarbete.",
        "The shared view is supported by good communication and mutual trust, for example forums for dialogue and "
        "collaboration.",
    ),
    "SF8.e": (
        "Politiken lyssnar på verksamhetens behov.",
        "Politics listens to the needs of the operation.",
    ),
}

_TEXT_LANGUAGES: tuple[str, ...] = ("sv", "en")


def indicator_text(indicator_id: str, language: str = "sv") -> str:
    """An indicator's text in Swedish ('sv', the default) or English ('en'): 'SF6.c' -> 'Tydlig delegationsordning.'"""
    texts = INDICATOR_TEXTS.get(indicator_id)
    if texts is None:
        raise ValueError(f"unknown success-factor indicator {indicator_id!r}")
    if language not in _TEXT_LANGUAGES:
        raise ValueError(f"unknown language {language!r} for indicator {indicator_id!r}; languages are sv and en")
    return texts[_TEXT_LANGUAGES.index(language)]
