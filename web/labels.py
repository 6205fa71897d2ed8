"""Swedish and English labels for every field and choice of the task payloads, for the generated web forms.

Swedish comes first: the participants are politicians, heads of administration, principals and their staff
in Swedish municipalities, and the words are theirs (nämnd, diarienummer, justering, föreläggande ...). The
English is for programme staff and readers who do not read Swedish. Keys follow ``domain.payloads``: a field
is ``"ModelName.field_name"`` for every model reachable from ``PAYLOAD_MODELS``, and a choice is the value as
it stands in the JSON schema (``enum``/``const``) of a Literal or an enum. The test
``tests/unit/test_web_labels.py`` walks the models and fails when a field or choice has no label here.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.success_factors import SUCCESS_FACTORS


@dataclass(frozen=True)
class Label:
    """What a form shows for a field or a choice: a label, and optionally a short help text under it."""

    sv: str
    en: str
    hint_sv: str = ""
    hint_en: str = ""


# Help texts used by several fields.
_DATE = ("ÅÅÅÅ-MM-DD", "YYYY-MM-DD")
_ONE_PER_LINE = ("En per rad", "One per line")
_KPI_ID = ("Nyckeltalets id i Kolada, t.ex. N15419", "The key figure's id in Kolada, e.g. N15419")
_KPI_IDS = ("Id i Kolada, t.ex. N15419, ett per rad", "Ids in Kolada, e.g. N15419, one per line")
_KOMMUNKOD = ("Kommunkod, fyra siffror, t.ex. 1861", "Municipality code, four digits, e.g. 1861")
_FACTOR = (
    "Välj en av de åtta framgångsfaktorerna (SF1–SF8)",
    "Choose one of the eight success factors (SF1–SF8)",
)
_GENDER = ("T = totalt, K = kvinnor, M = män (ibland F)", "T = total, K = women, M = men (sometimes F)")
_VALUE = ("Tomt om Kolada saknar värde", "Empty when Kolada has no value")
_STATUS = ("Koladas statuskod, ofta tom", "Kolada's status code, often empty")
_EVIDENCE = (
    "Valfritt. Ett per rad: dokument, webbadress eller annat som visar vad som gjorts",
    "Optional. One per line: a document, web address or other evidence of what was done",
)


FIELD_LABELS: dict[str, Label] = {
    # ---- Kolada data pack: filled in by the system, shown read-only -------------------------------------
    "KpiDataPack.kolada_base_url": Label(
        "Koladas adress", "Kolada address", "Varifrån siffrorna hämtades", "Where the figures were fetched from"
    ),
    "KpiDataPack.kpis": Label("Nyckeltal (kommun)", "Key figures (municipality)", *_KPI_IDS),
    "KpiDataPack.municipalities": Label(
        "Kommuner",
        "Municipalities",
        "Kommunkod, en per rad; 0000 = hela riket",
        "Municipality code, one per line; 0000 = the whole country",
    ),
    "KpiDataPack.years": Label("År", "Years", "ÅÅÅÅ, ett per rad", "YYYY, one per line"),
    "KpiDataPack.observations": Label("Värden per kommun", "Values per municipality"),
    "KpiDataPack.unit_kpis": Label("Nyckeltal (skola)", "Key figures (school)", *_KPI_IDS),
    "KpiDataPack.units": Label("Skolor", "Schools"),
    "KpiDataPack.unit_observations": Label("Värden per skola", "Values per school"),
    "KpiDataPack.comparison_group": Label("Jämförelsegrupp i Kolada", "Comparison group in Kolada"),
    "FollowUpFigures.kolada_base_url": Label(
        "Koladas adress", "Kolada address", "Varifrån siffrorna hämtades", "Where the figures were fetched from"
    ),
    "FollowUpFigures.year": Label("År", "Year", "Året som siffrorna gäller", "The year the figures are for"),
    "FollowUpFigures.kpis": Label("Planens nyckeltal", "The plan's key figures", *_KPI_IDS),
    "FollowUpFigures.observations": Label("Värden per kommun", "Values per municipality"),
    "FollowUpFigures.unit_kpis": Label("Nyckeltal (skola)", "Key figures (school)", *_KPI_IDS),
    "FollowUpFigures.units": Label("Skolor", "Schools"),
    "FollowUpFigures.unit_observations": Label("Värden per skola", "Values per school"),
    "FollowUpFigures.not_published": Label(
        "Inget värde publicerat",
        "No value published",
        "Nyckeltal som Kolada inte har något värde för det året",
        "Key figures Kolada has no value of for the year",
    ),
    "ComparisonGroup.id": Label("Gruppens id i Kolada", "The group's id in Kolada"),
    "ComparisonGroup.title": Label("Gruppens namn", "Name of the group"),
    "ComparisonGroup.members": Label("Kommuner i gruppen", "Municipalities in the group", *_KOMMUNKOD),
    "KpiObservation.kpi": Label("Nyckeltal", "Key figure", *_KPI_ID),
    "KpiObservation.municipality": Label("Kommun", "Municipality", *_KOMMUNKOD),
    "KpiObservation.period": Label("År", "Year", "ÅÅÅÅ", "YYYY"),
    "KpiObservation.gender": Label("Kön", "Gender", *_GENDER),
    "KpiObservation.value": Label("Värde", "Value", *_VALUE),
    "KpiObservation.status": Label("Status", "Status", *_STATUS),
    "OrganisationalUnit.id": Label(
        "Skolans id i Kolada", "The school's id in Kolada", "T.ex. V15E186100001", "E.g. V15E186100001"
    ),
    "OrganisationalUnit.title": Label("Skolans namn", "Name of the school"),
    "OrganisationalUnit.municipality": Label("Kommun", "Municipality", *_KOMMUNKOD),
    "UnitObservation.kpi": Label("Nyckeltal", "Key figure", *_KPI_ID),
    "UnitObservation.unit_id": Label(
        "Skolans id i Kolada", "The school's id in Kolada", "T.ex. V15E186100001", "E.g. V15E186100001"
    ),
    "UnitObservation.unit_title": Label("Skolans namn", "Name of the school"),
    "UnitObservation.period": Label("År", "Year", "ÅÅÅÅ", "YYYY"),
    "UnitObservation.gender": Label("Kön", "Gender", *_GENDER),
    "UnitObservation.value": Label("Värde", "Value", *_VALUE),
    "UnitObservation.status": Label("Status", "Status", *_STATUS),
    # ---- Deep analysis (djupanalys) ---------------------------------------------------------------------
    "SelfAssessment.level": Label(
        "Nivå", "Level", "Den nivå i styrkedjan som gör bedömningen", "The level of the governance chain assessing"
    ),
    "SelfAssessment.scores": Label(
        "Bedömning per indikator",
        "Score per indicator",
        "Från 1 (svagt) till 4 (starkt), för varje indikator",
        "From 1 (weak) to 4 (strong), for every indicator",
    ),
    "SelfAssessment.evidence": Label(
        "Underlag per indikator",
        "Evidence per indicator",
        "Valfritt: vad bedömningen bygger på, t.ex. ett dokument eller ett nyckeltal",
        "Optional: what the score rests on, e.g. a document or a key figure",
    ),
    "AnalysisFinding.factor": Label("Framgångsfaktor", "Success factor", *_FACTOR),
    "AnalysisFinding.text": Label("Beskrivning", "Description"),
    "StrengthsWeaknesses.strengths": Label(
        "Styrkor", "Strengths", "Minst en, med den framgångsfaktor den gäller", "At least one, with its success factor"
    ),
    "StrengthsWeaknesses.weaknesses": Label(
        "Brister (bristfaktorer)",
        "Weaknesses (bristfaktorer)",
        "Minst en, med den framgångsfaktor den gäller",
        "At least one, with its success factor",
    ),
    "StrengthsWeaknesses.positive_drivers": Label(
        "Positiva drivkrafter",
        "Positive drivers",
        "Det som redan fungerar och kan bära förändringen",
        "What already works and can carry the change",
    ),
    "StrengthsWeaknesses.prioritised_factors": Label(
        "Prioriterade utvecklingsområden",
        "Prioritised development areas",
        "Välj bland de framgångsfaktorer där ni har angett brister",
        "Choose among the success factors you listed weaknesses for",
    ),
    "NetworkContribution.strengths": Label(
        "Styrkor hittills",
        "Strengths so far",
        "Minst en, en per rad: det de andra piloterna kan lära av er",
        "At least one, one per line: what the other pilots can learn from you",
    ),
    "NetworkContribution.weaknesses": Label(
        "Svagheter hittills",
        "Weaknesses so far",
        "Minst en, en per rad: det ni vill ha de andras hjälp med",
        "At least one, one per line: what you want the others' help with",
    ),
    "NetworkContribution.plan_goals": Label(
        "Planens mål hittills",
        "The plan's goals so far",
        "En per rad; tomt om planen inte är skriven än",
        "One per line; empty if the plan is not written yet",
    ),
    "NetworkContribution.question": Label("Fråga till nätverket", "Question for the network", "Valfritt", "Optional"),
    "NetworkReflection.learned": Label("Det här lärde vi oss", "What we learnt"),
    "NetworkReflection.will_try": Label("Det här ska vi pröva", "What we will try"),
    "NetworkReflection.learned_from": Label(
        "Vi lärde oss mest av",
        "We learnt most from",
        "Valfritt. Kommunkod, en per rad, t.ex. 1861",
        "Optional. Municipality code, one per line, e.g. 1861",
    ),
    "DocumentCollection.documents": Label("Dokument", "Documents", "Minst ett", "At least one"),
    "CollectedDocument.kind": Label("Typ av dokument", "Kind of document"),
    "CollectedDocument.title": Label("Titel", "Title"),
    "CollectedDocument.reference": Label(
        "Var dokumentet finns",
        "Where to find it",
        "Diarienummer, webbadress eller arkivhänvisning",
        "Case number (diarienummer), web address or archive reference",
    ),
    "InterviewSummary.groups": Label(
        "Intervjugrupper",
        "Interview groups",
        "Minst en grupp ska vara elever",
        "At least one group must be pupils",
    ),
    "InterviewSummary.themes": Label(
        "Teman",
        "Themes",
        "Det som kom fram i intervjuerna, ett per rad",
        "What came up in the interviews, one per line",
    ),
    "InterviewGroup.level": Label("Grupp", "Group"),
    "InterviewGroup.interviewed": Label(
        "Antal intervjuade", "Number interviewed", "Antal personer", "Number of people"
    ),
    # ---- Development plan (skolutvecklingsplan) and the nämnd's decisions ---------------------------------
    "PlanDraft.goals": Label("Mål", "Goals", "Minst ett mål", "At least one goal"),
    "PlanDraft.period_years": Label(
        "Planperiod (antal år)", "Plan period (years)", "Hur många år planen gäller, 1–10", "How many years, 1–10"
    ),
    "PlanGoal.title": Label("Mål", "Goal", "Kort beskrivning av målet", "A short statement of the goal"),
    "PlanGoal.addresses_factor": Label("Framgångsfaktor som målet gäller", "Success factor addressed", *_FACTOR),
    "PlanGoal.kpi": Label("Nyckeltal som mäter målet", "Key figure measuring the goal", *_KPI_ID),
    "PlanGoal.baseline": Label(
        "Utgångsvärde", "Baseline", "Nyckeltalets värde när planen görs", "The key figure's value when the plan is made"
    ),
    "PlanGoal.target": Label(
        "Målvärde", "Target", "Värdet ni vill nå i slutet av planperioden", "The value to reach by the end of the plan"
    ),
    "PlanGoal.measures": Label("Åtgärder", "Measures", *_ONE_PER_LINE),
    "PlanGoal.owner_role": Label("Ansvarig", "Responsible", "Vem som ansvarar för målet", "Who answers for the goal"),
    "Consultation.supports_plan": Label("Står bakom planen", "Supports the plan"),
    "Consultation.opinion": Label(
        "Yttrande",
        "Opinion",
        "HR: kompetensförsörjning. Ekonomi: resurser.",
        "HR: competence supply. Finance: resources.",
    ),
    "Consultation.conditions": Label("Villkor", "Conditions", "Valfritt, ett per rad", "Optional, one per line"),
    "NamndDecision.organ": Label(
        "Nämnd (beslutande organ)",
        "Board (deciding body)",
        "T.ex. Barn- och utbildningsnämnden eller Kommunstyrelsen",
        "E.g. Barn- och utbildningsnämnden (education board) or Kommunstyrelsen (executive board)",
    ),
    "NamndDecision.meeting_date": Label("Sammanträdesdatum", "Meeting date", *_DATE),
    "NamndDecision.paragraph": Label(
        "Paragraf (§)", "Paragraph (§)", "Paragrafens nummer i protokollet", "The § number in the minutes"
    ),
    "NamndDecision.diarienummer": Label(
        "Diarienummer",
        "Case number (diarienummer)",
        "Ärendets nummer som det står i protokollet, t.ex. BUN/2016:360",
        "The case's number as it stands in the minutes, e.g. BUN/2016:360",
    ),
    "NamndDecision.decision_text": Label(
        "Beslut", "Decision", "Beslutet ordagrant som i protokollet", "The decision word for word as in the minutes"
    ),
    "DecisionPosting.justering_date": Label(
        "Datum för justering",
        "Date the minutes were approved (justering)",
        "ÅÅÅÅ-MM-DD, dagen då protokollet justerades",
        "YYYY-MM-DD, the day the minutes were approved",
    ),
    "DecisionPosting.anslag_date": Label(
        "Datum för anslag",
        "Date posted on the notice board (anslag)",
        "ÅÅÅÅ-MM-DD, dagen då justeringen anslogs; samma dag som justeringen eller senare",
        "YYYY-MM-DD, the day the approval was posted; the day of approval or later",
    ),
    "PlanRevision.decision": Label("Nämndens beslut", "The board's decision"),
    "PlanRevision.revised_plan": Label("Reviderad plan", "Revised plan"),
    "PlanRevision.reason": Label("Skäl till revideringen", "Reason for the revision"),
    # ---- Implementation and the yearly SKA cycle --------------------------------------------------------
    "YearlyFollowUp.year": Label("År", "Year", "ÅÅÅÅ", "YYYY"),
    "YearlyFollowUp.kpi_values": Label(
        "Årets nyckeltal",
        "This year's key figures",
        "Id i Kolada (t.ex. N15419) och årets värde",
        "Kolada id (e.g. N15419) and this year's value",
    ),
    "YearlyFollowUp.corrections": Label(
        "Rättelser",
        "Corrections",
        "Ändrar du ett värde som hämtats från Kolada, eller anger ett som Kolada inte har: nyckeltalets id och skälet "
        "eller källan",
        "Where you change a value gathered from Kolada, or give one Kolada does not have: the key figure's id and the "
        "reason or source",
    ),
    "YearlyFollowUp.progress": Label("Hur arbetet med målen går", "Progress towards the goals"),
    "SkaAnalysis.causes": Label(
        "Orsaker",
        "Causes",
        "Vad förklarar årets resultat? En per rad",
        "What explains this year's results? One per line",
    ),
    "SkaAnalysis.differences_between_units": Label("Skillnader mellan skolorna", "Differences between the schools"),
    "SkaPlanning.priorities": Label("Prioriteringar för nästa år", "Priorities for next year", *_ONE_PER_LINE),
    "SkaPlanning.plan_revision_needed": Label(
        "Planen behöver ett nytt beslut i nämnden",
        "The plan needs a new board decision",
        "Kryssa i om planen behöver ändras",
        "Tick if the plan must be changed",
    ),
    "MeasureProgress.status": Label("Läge", "Status"),
    "MeasureProgress.progress": Label("Vad som har gjorts", "What has been done"),
    "MeasureProgress.evidence": Label(
        "Underlag",
        "Evidence",
        "Ett per rad. Krävs när åtgärden är genomförd",
        "One per line. Required when the measure is completed",
    ),
    "ChangeProjectReport.title": Label("Förändringsprojektets namn", "Name of the change project"),
    "ChangeProjectReport.progress": Label("Hur projektet går", "How the project is going"),
    "ChangeProjectReport.pupil_involvement": Label(
        "Hur eleverna har deltagit",
        "How pupils took part",
        "Hur elevernas resultat, erfarenheter och synpunkter har använts",
        "How pupils' results, experiences and views were used",
    ),
    "FundingApplications.applications": Label("Ansökningar", "Applications"),
    "FundingApplications.none_this_year_reason": Label(
        "Varför inga ansökningar i år",
        "Why no applications this year",
        "Fyll i om ni inte har sökt några pengar i år",
        "Fill in if you applied for no funds this year",
    ),
    "FundingApplication.source": Label("Typ av pengar", "Kind of funding"),
    "FundingApplication.name": Label("Bidragets namn", "Name of the grant or fund"),
    "FundingApplication.amount_sek": Label(
        "Belopp (kr)", "Amount (SEK)", "Belopp i kronor, bara siffror", "Amount in kronor, digits only"
    ),
    "FundingApplication.outcome": Label("Utfall", "Outcome"),
    # ---- Skolinspektionen's decisions and remediation -------------------------------------------------
    "InspectionDecision.diarienummer": Label(
        "Skolinspektionens diarienummer",
        "Skolinspektionen's case number",
        "Som det står på beslutet, t.ex. 43-2015:2430",
        "As it stands on the decision, e.g. 43-2015:2430",
    ),
    "InspectionDecision.decided_on": Label("Beslutsdatum", "Date of decision", *_DATE),
    "InspectionDecision.level": Label("Beslutet gäller", "The decision concerns"),
    "InspectionDecision.school_form": Label(
        "Skolform",
        "School form",
        "T.ex. grundskola, förskola eller fritidshem",
        "E.g. grundskola, förskola, fritidshem",
    ),
    "InspectionDecision.review_type": Label("Typ av granskning", "Kind of review"),
    "InspectionDecision.school_unit_code": Label(
        "Skolenhetskod",
        "School unit code",
        "8 siffror, från Skolverkets skolenhetsregister. Krävs när beslutet gäller en skolenhet",
        "8 digits, from Skolverket's school unit register. Required for a decision on a school unit",
    ),
    "InspectionDecision.findings": Label("Iakttagelser i beslutet", "Findings"),
    "InspectionDecision.follow_up_of": Label(
        "Diarienummer för beslutet som följs upp",
        "Case number of the decision followed up",
        "Bara vid uppföljning av ett tidigare beslut",
        "Only for a follow-up of an earlier decision",
    ),
    "InspectionFinding.area": Label("Bedömningsområde", "Assessment area"),
    "InspectionFinding.intervention": Label("Ingripande", "Intervention"),
    "InspectionFinding.description": Label(
        "Beskrivning", "Description", "Bristen eller utvecklingsområdet med beslutets ord", "In the decision's words"
    ),
    "InspectionFinding.legal_references": Label(
        "Lagrum",
        "Legal references",
        "Ett per rad, t.ex. 4 kap. 3 § skollagen",
        "One per line, e.g. 4 kap. 3 § skollagen",
    ),
    "InspectionFinding.deadline": Label(
        "Sista dag för redovisning av åtgärder",
        "Deadline for reporting measures",
        "ÅÅÅÅ-MM-DD. Krävs vid föreläggande och när en brist kvarstår",
        "YYYY-MM-DD. Required for an order to act and when a deficiency remains",
    ),
    "InspectionFinding.follows_up": Label(
        "Iakttagelse som följs upp",
        "Finding followed up",
        "Iakttagelsens nummer i det tidigare beslutet, räknat från 0 (den första är 0)",
        "The finding's number in the earlier decision, counted from 0 (the first is 0)",
    ),
    "InspectionFinding.outcome": Label(
        "Utfall vid uppföljningen",
        "Outcome of the follow-up",
        "Bara vid uppföljning av ett tidigare beslut",
        "Only for a follow-up of an earlier decision",
    ),
    "RemediationReport.done": Label("Vad som har gjorts", "What was done"),
    "RemediationReport.evidence": Label("Underlag", "Evidence", *_EVIDENCE),
}
"""Label of every payload field, keyed ``"ModelName.field_name"``."""


CHOICE_LABELS: dict[str, Label] = {
    # Levels of the governance chain. The same letters are SelfAssessment.level (P, F, R, S) and
    # InterviewGroup.level (P, F, R, L): a level reads right both as who assesses and as who was interviewed.
    "P": Label("Politik", "Politics", "Nämnden och dess ledamöter", "The board and its members"),
    "F": Label(
        "Förvaltning",
        "Administration (förvaltning)",
        "Förvaltningschef och förvaltningsledning",
        "Head of administration and its management group",
    ),
    "R": Label("Rektorer", "Principals"),
    "S": Label("Stödfunktioner", "Support functions", "HR och ekonomi", "HR and finance"),
    "L": Label("Lärare", "Teachers"),
    "elever": Label("Elever", "Pupils"),
    "vardnadshavare": Label("Vårdnadshavare", "Parents and guardians"),
    # Role (domain.roles): who a plan goal or a task belongs to.
    "programledare": Label("Programledare", "Programme lead", "SKR eller regionen", "SKR or the region"),
    "politiker": Label("Politiker", "Politician", "Ledamot eller ordförande i nämnden", "Member or chair of the board"),
    "namndsekreterare": Label("Nämndsekreterare", "Board secretary"),
    "forvaltningschef": Label(
        "Förvaltningschef", "Head of administration", "Även skolchef eller bildningschef", "Also head of education"
    ),
    "rektor": Label("Rektor", "Principal"),
    "hr": Label("HR (personal)", "HR (personnel)"),
    "ekonomi": Label("Ekonomi", "Finance"),
    "analytiker": Label("Analytiker eller kvalitetsstrateg", "Analyst or quality strategist"),
    "regional_skolstodsgrupp": Label("Regional skolstödsgrupp", "Regional school support group"),
    "kommundirektor": Label("Kommundirektör", "Chief executive of the municipality (kommundirektör)"),
    # CollectedDocument.kind
    "kvalitetsrapport": Label("Kvalitetsrapport", "Quality report"),
    "maldokument": Label("Måldokument", "Goal document"),
    "delegationsordning": Label("Delegationsordning", "Delegation order"),
    "resursfordelningsmodell": Label("Resursfördelningsmodell", "Resource allocation model"),
    "inspektionsbeslut": Label("Beslut från Skolinspektionen", "Decision of Skolinspektionen"),
    # Both CollectedDocument.kind and FundingApplication.source: "Annat"/"Other" reads right for either.
    "annat": Label("Annat", "Other"),
    # MeasureProgress.status
    "ej_startad": Label("Ej startad", "Not started"),
    "pagar": Label("Pågår", "In progress"),
    "genomford": Label("Genomförd", "Completed"),
    "installd": Label("Inställd", "Cancelled"),
    # FundingApplication.source and .outcome
    "statsbidrag": Label("Statsbidrag", "State grant"),
    "utvecklingsmedel": Label("Utvecklingsmedel", "Development funds"),
    "ansokt": Label("Ansökt", "Applied for", "Inget besked ännu", "No answer yet"),
    "beviljad": Label("Beviljad", "Granted"),
    "avslagen": Label("Avslagen", "Rejected"),
    # InspectionLevel
    "huvudman": Label("Huvudman", "Organiser", "Kommunen som huvudman", "The municipality as organiser"),
    "skolenhet": Label("Skolenhet", "School unit", "En enskild skola", "A single school"),
    # ReviewType (Swedish as in reports.pilot_report.REVIEW_TYPES)
    "regelbunden_tillsyn": Label("Regelbunden tillsyn", "Regular supervision"),
    "kvalitetsgranskning": Label("Kvalitetsgranskning", "Quality review"),
    "riktad_tillsyn": Label("Riktad tillsyn", "Targeted supervision"),
    "uppfoljning": Label(
        "Uppföljning",
        "Follow-up",
        "Beslut efter uppföljning av ett tidigare beslut",
        "Decision after following up an earlier decision",
    ),
    # InspectionArea (Swedish as in reports.pilot_report.AREAS)
    "forutsattningar_for_utbildningen": Label("Förutsättningar för utbildningen", "Conditions for the education"),
    "utveckling_av_utbildningen": Label("Utveckling av utbildningen", "Development of the education"),
    "undervisning_och_larande": Label("Undervisning och lärande", "Teaching and learning"),
    "extra_anpassningar_och_sarskilt_stod": Label(
        "Extra anpassningar och särskilt stöd", "Extra adaptations and special support"
    ),
    "bedomning_och_betygssattning": Label("Bedömning och betygssättning", "Assessment and grading"),
    "trygghet_studiero_krankande_behandling": Label(
        "Trygghet, studiero och kränkande behandling", "Safety, calm for study and degrading treatment"
    ),
    "forutsattningar_for_skolenheten": Label("Förutsättningar för skolenheten", "Conditions for the school unit"),
    "styrning_och_utveckling_av_verksamheten": Label(
        "Styrning och utveckling av verksamheten", "Governance and development of the operation"
    ),
    # Intervention (Swedish as in reports.pilot_report.INTERVENTIONS, capitalised)
    "forelaggande": Label(
        "Föreläggande",
        "Order to act",
        "Bristen ska åtgärdas och redovisas senast ett visst datum",
        "The deficiency must be remedied and reported by a set date",
    ),
    "forelaggande_med_vite": Label(
        "Föreläggande med vite",
        "Order to act with a fine",
        "Som föreläggande, med ett vite om det inte följs",
        "As an order to act, with a fine if it is not followed",
    ),
    "anmarkning": Label(
        "Anmärkning",
        "Remark",
        "Mindre allvarlig brist som ändå ska åtgärdas",
        "A less serious deficiency, still to fix",
    ),
    "avstaende": Label(
        "Avstående från ingripande",
        "Refraining from intervention",
        "Bristen är liten eller redan åtgärdad",
        "The deficiency is minor or already fixed",
    ),
    "utvecklingsomrade": Label("Utvecklingsområde", "Development area"),
    # InspectionFinding.outcome
    "avhjalpt": Label("Avhjälpt", "Remedied", "Bristen är åtgärdad", "The deficiency has been fixed"),
    "kvarstar": Label(
        "Kvarstår", "Remains", "Bristen finns kvar; ange ny sista dag", "Still there; give a new deadline"
    ),
    # The success factors (SF1–SF8). Not an enum in the schema (a pattern), but a form offers them as choices.
    **{f.id: Label(f"{f.id} {f.title_sv}", f"{f.id} {f.title_en}") for f in SUCCESS_FACTORS},
}
"""Label of every choice value of the payloads (Literal values, enum values), keyed by the value itself."""


def field_label(model_name: str, field_name: str) -> Label:
    """The label of ``model_name.field_name``; a KeyError naming the key when the catalogue lacks it."""
    key = f"{model_name}.{field_name}"
    try:
        return FIELD_LABELS[key]
    except KeyError:
        raise KeyError(f"no label for field {key!r}: add it to web.labels.FIELD_LABELS") from None


def choice_label(value: str) -> Label:
    """The label of a choice value; the value itself in both languages when the catalogue lacks it."""
    text = str(value)
    return CHOICE_LABELS.get(text, Label(text, text))
