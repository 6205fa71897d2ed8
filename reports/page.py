"""The HTML page every report shares: Swedish first with English in smaller type, inline CSS, prints on A4."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from html import escape

from domain.moments import in_swedish_time

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1a1a1a; background: #fff; max-width: 62rem; margin: 0 auto; padding: 1.5rem 1.5rem 3rem;
  line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.75rem; margin: 0 0 .2rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 2px solid #0b5cad; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
.en { font-size: .8em; color: #555; font-weight: normal; }
h1 .en, h2 .en, h3 .en { display: inline-block; margin-left: .35rem; }
th .en { display: block; }
.table-wrap { overflow-x: auto; }
p { margin: .4rem 0; }
.lead { color: #333; margin-bottom: 1rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1.2rem; margin: 1rem 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; margin: .7rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border-bottom: 1px solid #c8c8c8; padding: .3rem .5rem; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #595959; background: #f3f5f8; }
td.date { white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
td.flag-inspection_only { font-weight: 700; }
figure { margin: 1rem 0; }
figcaption { font-size: .85rem; color: #333; margin-top: .3rem; }
svg.chart { display: block; max-width: 100%; height: auto; }
.missing { background: #f4f4f4; border-left: 4px solid #595959; padding: .6rem .8rem; margin: .6rem 0; }
.findings li { margin: .2rem 0; }
ol.findings { list-style: none; padding-left: 0; }
ol.timeline { list-style: none; padding-left: 0; border-left: 3px solid #c8c8c8; margin-left: .4rem; }
ol.timeline > li { position: relative; padding: 0 0 .7rem 1.1rem; }
ol.timeline > li::before { content: ""; position: absolute; left: -.5rem; top: .35rem; width: .7rem; height: .7rem;
  border-radius: 50%; background: #fff; border: 2px solid #595959; }
ol.timeline > li.done::before { background: #1b7a3e; border-color: #1b7a3e; }
ol.timeline > li.active::before { background: #0b5cad; border-color: #0b5cad; }
.status { font-weight: 600; }
footer { margin-top: 2.5rem; font-size: .8rem; color: #555; border-top: 1px solid #c8c8c8; padding-top: .6rem; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  h2 { break-after: avoid; }
  h3 { break-after: avoid; }
  figure, table, .goal, dl.facts { break-inside: avoid; }
  thead th { background: none; }
  .table-wrap { overflow: visible; }
  table { font-size: 9pt; }
  th, td { padding: .2rem .3rem; }
}
"""


LANDSCAPE = "@page { size: A4 landscape; }\n"


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def bilingual(sv: str, en: str) -> str:
    """Swedish text, then its English in smaller type (escaped; English marked lang="en" for screen readers)."""
    return f'{esc(sv)} <span class="en" lang="en">{esc(en)}</span>'


def table(head: str, rows: Iterable[str], *, caption: str = "") -> str:
    """A data table (head: the <th> cells of the header row), in a wrapper that scrolls on narrow screens."""
    caption_html = f"<caption>{caption}</caption>" if caption else ""
    return (
        f'<div class="table-wrap"><table>{caption_html}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def iso_date(value: date | datetime | None) -> str:
    """ISO 8601 (the Swedish standard way of writing dates); '–' when there is none."""
    if value is None:
        return "–"
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def html_page(*, title: str, body: str, generated_at: datetime, source_note: str, landscape: bool = False) -> str:
    """A complete, self-contained page: no scripts, no external resources. `landscape`: printed across the A4
    sheet, for a page of wide tables (the cohort overview: a column per success factor)."""
    stamp = in_swedish_time(generated_at)
    footer = (
        f"<footer><p>{bilingual(f'Rapporten skapad {stamp}. {source_note}', f'Report generated {stamp}.')}</p></footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="sv">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}{LANDSCAPE if landscape else ''}</style>\n</head>\n<body>\n"
        f"{body}\n{footer}\n</body>\n</html>\n"
    )


def require_aware(generated_at: datetime) -> None:
    """Due dates are timezone-aware; comparing them with a naive time would fail or, worse, mislead."""
    if generated_at.tzinfo is None or generated_at.utcoffset() is None:
        raise ValueError("generated_at must be timezone-aware, e.g. datetime.now(UTC)")
