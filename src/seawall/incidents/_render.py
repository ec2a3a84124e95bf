"""Incident reports as Markdown (for tickets) and as one self-contained HTML page (to mail).

Both escape every piece of text: titles, alert summaries, notification
errors and people's notes can hold anything. The HTML page fetches nothing
-- no scripts, fonts or stylesheets -- so it can be attached as it is.
"""

from __future__ import annotations

import html

from seawall.incidents._format import iso
from seawall.incidents._report import IncidentReport
from seawall.incidents._sections import Section, Table, sections, title

__all__ = ["render_html", "render_markdown"]


# -- Markdown ------------------------------------------------------------------------


def _md(text: str) -> str:
    """Inline text safe in Markdown: no raw HTML, no table breaks, no line breaks."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def _md_table(table: Table) -> list[str]:
    lines = [
        "| " + " | ".join(_md(h) for h in table.header) + " |",
        "|" + "|".join("---" for _ in table.header) + "|",
    ]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in table.rows]
    return [*lines, ""]


def _md_section(section: Section) -> list[str]:
    lines = [f"## {_md(section.heading)}", ""]
    for paragraph in section.paragraphs:
        lines += [_md(paragraph), ""]
    for table in section.tables:
        lines += _md_table(table)
    if section.text is not None:
        if section.placeholder:
            lines += [f"_{_md(section.text)}_", ""]
        else:  # people's Markdown stays Markdown; only raw HTML is neutralised
            lines += [html.escape(section.text.strip(), quote=False), ""]
    return lines


def render_markdown(report: IncidentReport) -> str:
    """The report as a Markdown document."""
    lines = [f"# {_md(title(report))}", "", f"Report as of {iso(report.as_of)}.", ""]
    for section in sections(report):
        lines += _md_section(section)
    return "\n".join(lines).rstrip("\n") + "\n"


# -- HTML ------------------------------------------------------------------------------

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #1d232a; }
h1, h2 { line-height: 1.2; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.notes { white-space: pre-wrap; background: #f6f8fa; padding: .6rem .8rem; border-radius: 4px; }
.placeholder { color: #57606a; font-style: italic; }
.meta { color: #57606a; }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in table.header)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_section(section: Section) -> str:
    parts = [f"<h2>{_e(section.heading)}</h2>"]
    parts += [f"<p>{_e(p)}</p>" for p in section.paragraphs]
    parts += [_html_table(t) for t in section.tables]
    if section.text is not None:
        kind = "placeholder" if section.placeholder else "notes"
        parts.append(f'<div class="{kind}">{_e(section.text.strip())}</div>')
    return "<section>" + "".join(parts) + "</section>"


def render_html(report: IncidentReport) -> str:
    """The report as one standalone HTML page."""
    heading = _e(title(report))
    body = "\n".join(_html_section(s) for s in sections(report))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{heading}</title><style>{_STYLE}</style></head>\n"
        f'<body><h1>{heading}</h1><p class="meta">Report as of {_e(iso(report.as_of))}.</p>\n'
        f"{body}\n</body></html>\n"
    )
