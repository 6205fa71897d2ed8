"""Every text of the web pages, in Swedish and English; the pages show the participant's choice (Swedish first)."""

from __future__ import annotations

from domain.language import LANGUAGES, Language

__all__ = ["LANGUAGES", "TEXTS", "Language", "text"]

TEXTS: dict[str, tuple[str, str]] = {
    # frame
    "site": ("Leda för resultat", "Lead for Results"),
    "skip": ("Hoppa till innehållet", "Skip to the content"),
    "nav": ("Huvudmeny", "Main menu"),
    "nav_inbox": ("Mina uppgifter", "My tasks"),
    "nav_board": ("Kohortöversikt", "Cohort board"),
    "nav_start": ("Starta pilot", "Start a pilot"),
    "sign_out": ("Logga ut", "Sign out"),
    "other_language": ("In English", "På svenska"),
    "accessibility_title": ("Tillgänglighetsredogörelse", "Accessibility statement"),
    # sign-in
    "sign_in_title": ("Logga in", "Sign in"),
    "sign_in_intro": (
        "Följ länken i ett mejl från Leda, eller be om en ny länk här. En länk du ber om här gäller i en timme, "
        "länken i ett mejl om en uppgift i 14 dagar. Varje länk loggar in en gång.",
        "Follow the link in a mail from Leda, or ask for a new link here. A link you ask for here is valid for an "
        "hour, the link in a mail about a task for 14 days. Each link signs in once.",
    ),
    "link_page_intro": (
        "Tryck på knappen för att logga in. Länken loggar in en gång; efter det är den förbrukad.",
        "Press the button to sign in. The link signs in once; after that it is used up.",
    ),
    "link_page_button": ("Logga in", "Sign in"),
    "link_page_expired": (
        "Inloggningen kunde inte slutföras härifrån. Öppna länken i mejlet igen och tryck på knappen.",
        "The sign-in could not be completed from here. Open the link in the mail again and press the button.",
    ),
    "sign_out_everywhere": ("Logga ut överallt", "Sign out everywhere"),
    "email": ("E-postadress", "E-mail address"),
    "send_link": ("Skicka inloggningslänk", "Send a sign-in link"),
    "link_sent": (
        "Om adressen finns hos oss är en inloggningslänk på väg till den nu.",
        "If we know the address, a sign-in link is on its way to it now.",
    ),
    "link_dead": (
        "Länken har gått ut eller gäller inte längre. Be om en ny nedan.",
        "The link has expired or is no longer valid. Ask for a new one below.",
    ),
    "email_invalid": (
        "Skriv en e-postadress, till exempel namn@kommun.se.",
        "Enter an e-mail address, like name@kommun.se.",
    ),
    # inbox
    "inbox_title": ("Mina uppgifter", "My tasks"),
    "inbox_intro": ("Dina öppna uppgifter, den som ska vara klar först överst.", "Your open tasks, soonest due first."),
    "inbox_empty": ("Du har inga öppna uppgifter just nu.", "You have no open tasks right now."),
    "inbox_done": ("Klara uppgifter", "Completed tasks"),
    "col_task": ("Uppgift", "Task"),
    "col_municipality": ("Kommun", "Municipality"),
    "col_phase": ("Fas", "Phase"),
    "col_due": ("Sista dag", "Due"),
    "col_completed": ("Klar", "Completed"),
    "col_acting_for": ("För", "For"),
    "overdue": ("försenad", "overdue"),
    "no_due": ("inget slutdatum", "no deadline"),
    "calendar_title": ("Din kalender", "Your calendar"),
    "calendar_intro": (
        "Prenumerera på dina sista dagar och nämndens sammanträden i Outlook eller en annan kalender. Adressen är "
        "hemlig: den som har den ser dina uppgifter. En ny adress stänger den förra.",
        "Subscribe to your deadlines and the nämnd's meetings in Outlook or another calendar. The address is "
        "secret: whoever has it sees your tasks. A new address shuts the one before.",
    ),
    "calendar_renew": ("Skapa en ny kalenderadress", "Make a new calendar address"),
    "calendar_address": (
        "Din kalenderadress (visas bara nu; lägg till den som prenumeration i kalendern):",
        "Your calendar address (shown only now; add it as a subscription in your calendar):",
    ),
    # task
    "task_due": ("Sista dag: {due}", "Due: {due}"),
    "task_phase": ("Fas: {phase}", "Phase: {phase}"),
    "task_in": ("{municipality}, {programme}", "{municipality}, {programme}"),
    "required": ("obligatoriskt", "required"),
    "optional": ("frivilligt", "optional"),
    "submit": ("Skicka in och markera som klar", "Submit and mark as done"),
    "add_item": ("Lägg till", "Add"),
    "remove_item": ("Ta bort", "Remove"),
    "item_n": ("{label} {n}", "{label} {n}"),
    "none_chosen": ("Välj …", "Choose …"),
    "yes": ("Ja", "Yes"),
    "no": ("Nej", "No"),
    "lines_hint": ("En per rad.", "One per line."),
    "fixed_value": ("Bestäms av uppgiften", "Set by the task"),
    "errors_title": ("Svaret kunde inte sparas", "The answer could not be saved"),
    "errors_intro": ("Rätta det som står nedan och skicka igen:", "Correct the following and submit again:"),
    "error_prefix": ("Fel", "Error"),
    "task_completed": ("Uppgiften är klar sedan {when}.", "The task was completed on {when}."),
    "task_not_open": ("Uppgiften är inte öppen ({status}).", "The task is not open ({status})."),
    "task_not_yours": (
        "Uppgiften är tilldelad {who}. Du kan läsa den men inte svara på den.",
        "The task is assigned to {who}. You can read it but not answer it.",
    ),
    "task_escalated_to_you": (
        "Uppgiften är försenad och har eskalerats till dig som chef. Be {who} att slutföra den, eller be "
        "programledaren att flytta den till någon annan.",
        "The task is overdue and was escalated to you as a line manager. Ask {who} to finish it, or ask the "
        "programme lead to move it to someone else.",
    ),
    "task_automated": ("Den här uppgiften gör systemet självt.", "The system does this task itself."),
    "figures_title": ("Nyckeltal från Kolada för {year}", "Key figures from Kolada for {year}"),
    "figures_intro": (
        "Systemet har hämtat planens nyckeltal för året, och svaret nedan börjar med dem. Ändrar du ett värde, eller "
        "anger ett som Kolada inte har publicerat, skriv skälet eller källan under Rättelser. Båda värdena sparas.",
        "The system gathered the plan's key figures for the year, and the answer below starts from them. If you "
        "change a value, or give one Kolada has not published, write the reason or source under Corrections. Both "
        "values are kept.",
    ),
    "figures_kpi": ("Nyckeltal", "Key figure"),
    "figures_value": ("Kolada: {place}", "Kolada: {place}"),
    "figures_not_published": ("inget värde publicerat", "no value published"),
    "figures_units": ("Per skola, {year}", "Per school, {year}"),
    "figures_school": ("Skola", "School"),
    "refused": ("Svaret togs inte emot: {why}", "The answer was not accepted: {why}"),
    "to_pilot": ("Till kommunens sida", "To the municipality's page"),
    # done
    "done_title": ("Tack! Uppgiften är klar", "Thank you! The task is done"),
    "done_body": ("”{task}” är inskickad och sparad.", "“{task}” has been submitted and saved."),
    "done_next": ("Dina nästa uppgifter", "Your next tasks"),
    "done_none": ("Du har inga fler öppna uppgifter just nu.", "You have no more open tasks right now."),
    "back_inbox": ("Tillbaka till mina uppgifter", "Back to my tasks"),
    # board
    "board_title": ("Kohortöversikt", "Cohort board"),
    "board_intro": (
        "Alla kommuner du leder: fas, hur långt de kommit, försenade uppgifter och nästa slutdatum.",
        "Every municipality you lead: phase, progress, overdue tasks and next deadlines.",
    ),
    "board_empty": ("Inga piloter att visa.", "No pilots to show."),
    "board_unreadable": (
        "De här piloternas logg kan inte läsas just nu; kontakta driften: {pilots}",
        "These pilots' records cannot be read right now; contact operations: {pilots}",
    ),
    "col_programme": ("Program", "Programme"),
    "col_progress": ("Framsteg", "Progress"),
    "col_overdue": ("Försenade", "Overdue"),
    "col_next": ("Nästa slutdatum", "Next deadlines"),
    "progress_of": ("{done} av {total} klara", "{done} of {total} done"),
    "pilot_done": ("Klar", "Completed"),
    "paused": ("pausad", "paused"),
    "withdrawn": ("utträdd", "withdrawn"),
    "scheduled_title": ("Schemalagda starter", "Scheduled starts"),
    "scheduled_intro": (
        "Piloter som är startade men börjar senare, som kohortens förskjutna starter.",
        "Pilots that are started but begin later, like a cohort's staggered starts.",
    ),
    "col_starts": ("Börjar", "Begins"),
    "col_template": ("Mall", "Template"),
    "done_scheduled": ("Piloten är startad och börjar {day}.", "The pilot is started and begins on {day}."),
    "programmes_title": ("Dina program", "Your programmes"),
    "programmes_intro": (
        "Lägesrapport med piloterna sida vid sida, och nätverksträffar där piloterna lär av varandra.",
        "A report with the pilots side by side, and network meetings where the pilots learn from each other.",
    ),
    "cohort_report": ("Piloterna sida vid sida", "The pilots side by side"),
    "cohort_report_anonymous": ("utan kommunernas namn", "without the municipalities' names"),
    "schedule_meeting": ("Planera en nätverksträff för {programme}", "Schedule a network meeting for {programme}"),
    "meeting_hint": (
        "Varje pilot du leder i programmet får träffen, och dess förvaltningschef en uppgift att förbereda "
        "kommunens bidrag, senast tre dagar före. Skriv inte namn på personer i rubrik eller plats.",
        "Every pilot of the programme you lead gets the meeting, and its head of administration a task to prepare "
        "the municipality's contribution, due three days before. Do not name people in the title or place.",
    ),
    "meeting_title": ("Rubrik", "Title"),
    "meeting_held_at": ("Dag och tid", "Day and time"),
    "meeting_place": ("Plats", "Place"),
    "do_schedule_meeting": ("Planera träffen", "Schedule the meeting"),
    "done_meeting": (
        "Nätverksträffen ”{title}” är planerad för {n} piloter.",
        "The network meeting “{title}” is scheduled for {n} pilots.",
    ),
    "board_errors_title": ("Det gick inte", "That did not work"),
    "meetings": ("Nätverksträffar", "Network meetings"),
    "meetings_none": ("Ingen nätverksträff är planerad.", "No network meeting is scheduled."),
    "col_meeting": ("Träff", "Meeting"),
    "col_when": ("När", "When"),
    "col_attended": ("Deltog", "Attended"),
    "attended_yes": ("ja: {who}", "yes: {who}"),
    "attended_no": ("nej", "no"),
    "attended_unknown": ("inte registrerat", "not recorded"),
    "record_attendance": ("Registrera deltagandet", "Record the attendance"),
    "attended_question": ("Deltog kommunen?", "Did the municipality attend?"),
    "attendees": ("Vilka deltog", "Who took part"),
    "done_attendance": ("Deltagandet är registrerat.", "The attendance has been recorded."),
    # starting pilots
    "start_title": ("Starta pilot", "Start a pilot"),
    "start_intro": (
        "Starta en kommuns pilot, eller en hel kohort på en gång. Deltagarna hämtas ur deltagarregistret: "
        "kommunens egna och programmets.",
        "Start a municipality's pilot, or a whole cohort at once. The participants come from the directory: the "
        "municipality's own and the programme's.",
    ),
    "start_errors_title": ("Piloten kunde inte startas", "The pilot could not be started"),
    "date_format": ("skriv dagen som ÅÅÅÅ-MM-DD", "write the day as YYYY-MM-DD"),
    "refused_organ_required": (
        "Ange vilken nämnd som beslutar i skolfrågor.",
        "Name the nämnd that decides school matters.",
    ),
    "refused_missing_participants": (
        "Deltagarregistret saknar kommunens deltagare för roller som mallen behöver; importera dem först.",
        "The directory lacks the municipality's participants for roles the template needs; import them first.",
    ),
    "refused_unknown_municipality": (
        "Koden finns inte i SCB:s register över Sveriges kommuner.",
        "The code is not in SCB's register of Sweden's municipalities.",
    ),
    "refused_name_required": ("Ange kommunalförbundets namn.", "Name the kommunalförbund."),
    "refused_unknown_template": ("Det finns ingen sådan programmall.", "There is no such programme template."),
    "start_one": ("En kommun", "One municipality"),
    "programme": ("Program (omgång)", "Programme (round)"),
    "programme_hint": (
        "Små bokstäver, siffror och bindestreck, t.ex. lfr-skola-2015.",
        "Lower-case letters, digits and hyphens, e.g. lfr-skola-2015.",
    ),
    "template": ("Programmall", "Programme template"),
    "municipality": ("Kommun eller kommunalförbund", "Municipality or kommunalförbund"),
    "kommunalforbund": ("Kommunalförbund", "Kommunalförbund"),
    "organ": ("Nämnd som beslutar", "Deciding nämnd"),
    "organ_hint": (
        "Den nämnd (eller kommunstyrelse, eller förbundsdirektion) som beslutar i skolfrågor, t.ex. "
        "Barn- och utbildningsnämnden. Behövs inte för Hallsberg och Ljusnarsberg.",
        "The nämnd (or kommunstyrelse, or förbund's board) that decides school matters, e.g. "
        "Barn- och utbildningsnämnden. Not needed for Hallsberg and Ljusnarsberg.",
    ),
    "pilot_name": ("Namn", "Name"),
    "pilot_name_hint": (
        "Bara för ett kommunalförbund som Leda inte känner till.",
        "Only for a kommunalförbund Leda does not know.",
    ),
    "starts_on": ("Startdag", "Start day"),
    "starts_on_hint": (
        "Tom eller i dag: piloten börjar nu. En senare dag: den börjar kl. 08.00 den dagen.",
        "Empty or today: the pilot begins now. A later day: it begins at 08:00 that day.",
    ),
    "do_start": ("Starta piloten", "Start the pilot"),
    "start_cohort": ("En hel kohort", "A whole cohort"),
    "start_cohort_intro": (
        "Kohorter som följer med Leda. Varje pilot börjar så många dagar efter starten som kohorten anger.",
        "Cohorts shipped with Leda. Each pilot begins as many days after the start as the cohort says.",
    ),
    "cohort_pilots": ("{n} piloter i {programme}, mall {template}", "{n} pilots in {programme}, template {template}"),
    "cohort_after": ("dag {days}", "day {days}"),
    "do_start_cohort": ("Starta kohorten {name}", "Start the cohort {name}"),
    "cohort_not_yours": (
        "Du leder inte alla dess piloter och kan inte starta den.",
        "You do not lead all its pilots and cannot start it.",
    ),
    "cohort_result": ("Kohorten {name}", "The cohort {name}"),
    "cohort_started_one": ("startad, börjar {day}", "started, begins on {day}"),
    "cohort_refused_one": ("inte startad: {why}", "not started: {why}"),
    # pilot page
    "pilot_open_tasks": ("Öppna uppgifter", "Open tasks"),
    "pilot_no_open": ("Inga öppna uppgifter.", "No open tasks."),
    "col_assignee": ("Tilldelad", "Assigned to"),
    "col_actions": ("Styr", "Steer"),
    "extend": ("Förläng", "Extend"),
    "reassign": ("Flytta till någon annan", "Reassign"),
    "new_due": ("Ny sista dag", "New due date"),
    "to_participant": ("Till deltagare", "To participant"),
    "reason": ("Skäl", "Reason"),
    "reason_hint": (
        "Sparas i pilotens logg. Skriv roller, inte namn.",
        "Kept in the pilot's record. Write roles, not names.",
    ),
    "do_extend": ("Förläng sista dag", "Extend the deadline"),
    "do_reassign": ("Flytta uppgiften", "Reassign the task"),
    "pause": ("Pausa piloten", "Pause the pilot"),
    "resume": ("Återuppta piloten", "Resume the pilot"),
    "hold": ("Pilotens gång", "The pilot's course"),
    "paused_since": ("Piloten är pausad: {reason}", "The pilot is paused: {reason}"),
    "done_extend": ("Sista dagen är flyttad fram.", "The deadline has been extended."),
    "done_reassign": ("Uppgiften har fått en ny ansvarig.", "The task has been reassigned."),
    "done_pause": ("Piloten är pausad.", "The pilot is paused."),
    "done_resume": ("Piloten har återupptagits.", "The pilot has been resumed."),
    "done_roster": ("Rollistan är ändrad.", "The roster has been changed."),
    "roster": ("Rollista", "Roster"),
    "roster_intro": (
        "Vem som har varje roll. Uppgifter som öppnas framöver går till rollens första deltagare.",
        "Who holds each role. Tasks that open from now on go to the role's first participant.",
    ),
    "col_role": ("Roll", "Role"),
    "col_holders": ("Deltagare", "Participants"),
    "change_roster": ("Ändra rollistan", "Change the roster"),
    "roster_hint": (
        "Den som kommer in tar över öppna uppgifter från den som lämnar. Den nya deltagaren ska finnas i "
        "kommunens deltagarregister med rollen.",
        "The one joining takes over the open tasks of the one leaving. The newcomer must be in the municipality's "
        "directory with the role.",
    ),
    "role": ("Roll", "Role"),
    "joining": ("Kommer in i rollen", "Joins the role"),
    "leaving": ("Lämnar rollen", "Leaves the role"),
    "nobody": ("Ingen", "No one"),
    "do_roster": ("Ändra rollistan", "Change the roster"),
    "role_programledare": ("Programledare", "Programme lead"),
    "role_politiker": ("Politiker i nämnden", "Politician (nämnd)"),
    "role_namndsekreterare": ("Nämndsekreterare", "Nämnd secretary"),
    "role_forvaltningschef": ("Förvaltningschef", "Head of administration"),
    "role_rektor": ("Rektor", "Principal (rektor)"),
    "role_hr": ("HR", "HR"),
    "role_ekonomi": ("Ekonomi", "Finance"),
    "role_analytiker": ("Analytiker", "Analyst"),
    "role_regional_skolstodsgrupp": ("Regional skolstödsgrupp", "Regional school support group"),
    "role_kommundirektor": ("Kommundirektör", "Chief executive (kommundirektör)"),
    "waiting_for": ("Piloten väntar på", "The pilot is waiting for"),
    "waiting_until": ("till {until}", "until {until}"),
    "no_inspection": (
        "Inget beslut från Skolinspektionen registrerades under programmet; jämförelsen stängdes {day}.",
        "No Skolinspektionen decision was registered during the programme; the comparison closed on {day}.",
    ),
    "decisions": ("Nämndens beslut", "The nämnd's decisions"),
    "decisions_none": ("Nämnden har inte fattat något beslut i programmet än.", "The nämnd has taken no decision yet."),
    "col_decision": ("Beslut", "Decision"),
    "col_decision_status": ("Läge", "Standing"),
    "col_appeals": ("Överklaganden", "Appeals"),
    "appeal_pending": ("väntar på domstolen", "waiting for the court"),
    "record_appeal": ("Registrera ett överklagande", "Record an appeal"),
    "appeal_hint": (
        "Laglighetsprövning: beslutet vinner inte laga kraft medan överklagandet prövas. Ange målnumret hos domstolen.",
        "Laglighetsprövning: the decision does not become final while the appeal is tried. Give the court's case "
        "number.",
    ),
    "court": ("Domstol", "Court"),
    "case_number": ("Målnummer", "Case number"),
    "lodged_on": ("Inkom till domstolen", "Lodged with the court on"),
    "do_appeal": ("Registrera överklagandet", "Record the appeal"),
    "record_outcome": ("Registrera domstolens avgörande", "Record the court's outcome"),
    "outcome": ("Avgörande", "Outcome"),
    "outcome_avslaget": ("Överklagandet avslogs: beslutet står fast", "Rejected: the decision stands"),
    "outcome_avvisat": ("Överklagandet avvisades: beslutet står fast", "Dismissed: the decision stands"),
    "outcome_delvis_upphavt": ("Beslutet upphävdes delvis", "The decision was partly annulled"),
    "outcome_upphavt": ("Beslutet upphävdes: nämnden beslutar på nytt", "Annulled: the nämnd decides again"),
    "decided_on": ("Domstolens avgörande den", "Decided by the court on"),
    "do_outcome": ("Registrera avgörandet", "Record the outcome"),
    "done_appeal": ("Överklagandet är registrerat.", "The appeal has been recorded."),
    "done_outcome": ("Domstolens avgörande är registrerat.", "The court's outcome has been recorded."),
    "timeline": ("Tidslinje", "Timeline"),
    "report": ("Lägesrapport", "Status report"),
    "report_link": ("Hela lägesrapporten", "The whole status report"),
    "phase_now": ("Nuvarande fas: {phase}", "Current phase: {phase}"),
    "year_of": ("Genomförandeår {year} av {years}", "Implementation year {year} of {years}"),
    # errors
    "forbidden_title": ("Inte tillåtet", "Not allowed"),
    "not_found_title": ("Finns inte", "Not found"),
    "not_found": ("Sidan eller uppgiften finns inte.", "The page or task does not exist."),
    "form_expired": (
        "Formuläret hade gått ut. Ladda om sidan och försök igen.",
        "The form had expired. Reload the page and try again.",
    ),
    "unavailable": (
        "Leda kan inte nå arbetsflödena just nu. Försök igen om en stund; inget av det du skickade har gått förlorat.",
        "Leda cannot reach the workflows right now. Try again in a moment; nothing you sent has been lost.",
    ),
}


def text(key: str, language: Language, **values: object) -> str:
    """The text `key` in `language`, with `values` filled in."""
    sv, en = TEXTS[key]
    chosen = sv if language == "sv" or not en else en
    return chosen.format(**values) if values else chosen
