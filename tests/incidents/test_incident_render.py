"""Incident reports as Markdown and HTML: every section present, every piece of text escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from seawall.config import Config
from seawall.incidents import (
    IncidentBook,
    build_incident_report,
    render_html,
    render_markdown,
)
from seawall.store import Store
from tests.incidents.conftest import M0, REPORT_AT, firing, seed_outage

SECTIONS = [
    "Summary",
    "Detection and recovery",
    "Affected integrations and business impact",
    "SLA implications",
    "Timeline",
    "Alerts",
    "Notifications",
    "Root cause",
    "Prevention",
]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links += [v or "" for k, v in attrs if k in ("src", "href")]


async def test_markdown_has_every_section_and_the_numbers(
    store: Store, book: IncidentBook, config: Config
) -> None:
    """The Markdown report holds the sections in order, the times, impact and credit, placeholders."""
    incident_id = await seed_outage(store, book)
    report = await build_incident_report(store, config, incident_id, now=REPORT_AT)
    text = render_markdown(report)
    assert text.startswith(f"# Incident #{incident_id}: payments: error rate 50% &gt; 5%\n")
    assert re.findall(r"^## (.+)$", text, re.MULTILINE) == SECTIONS
    assert (
        "Time to detect (MTTD): 3m. Time to acknowledge: 2m. Time to recover (MTTR): 50m." in text
    )
    assert "| payments | critical | 5050 | 2500 | 50 | 3 | 50 | 1,200.00 | 60,000.00 |" in text
    assert "| total |  |  |  |  |  |  |  | 60,000.00 |" in text
    assert (
        "| stripe-standard | payments/stripe | 2023-11 (so far) | 99.7514% (minutes) | 99.9% | 50 | 2500 | below 99.9% | 10%: 200.00 USD |"
        in text
    )
    assert "_To be written: what failed, and why._" in text
    assert (
        "| 2023-11-14T22:17:30Z | sms-lead (channel) | firing | 0 | failed | 3 | &lt;b&gt;no route&lt;/b&gt; \\| 503 |"
        in text
    )
    assert "Served the static fallback: no-provider (x3, until 2023-11-14T22:15:57Z)" in text


async def test_markdown_and_html_escape_what_people_wrote(
    store: Store, book: IncidentBook, config: Config
) -> None:
    """Titles, summaries, errors and notes with markup are shown as text, never as markup."""
    evil = '<script>alert("x")</script> | ok'
    change = await book.on_transition(firing("payments-errors", at=M0, summary=evil))
    assert change is not None
    await book.write_notes(
        change.incident.id,
        root_cause="A **bold** cause <img src=x onerror=alert(1)>",
        prevention="Add a probe & a check",
    )
    report = await build_incident_report(store, config, change.incident.id, now=M0 + 600)

    markdown = render_markdown(report)
    assert "<script>" not in markdown
    assert "<img" not in markdown
    assert '&lt;script&gt;alert("x")&lt;/script&gt; \\| ok' in markdown
    assert "A **bold** cause &lt;img src=x onerror=alert(1)&gt;" in markdown  # Markdown kept
    assert "Add a probe &amp; a check" in markdown
    assert "not recovered yet" in markdown

    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; | ok" in page
    assert '<div class="notes">A **bold** cause &lt;img src=x onerror=alert(1)&gt;</div>' in page
    parser = _Tags()
    parser.feed(page)
    assert parser.links == []  # self-contained: nothing fetched
    assert "script" not in parser.tags
    assert parser.tags.count("h2") == len(SECTIONS)
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in page


async def test_html_tells_the_same_numbers(
    store: Store, book: IncidentBook, config: Config
) -> None:
    """The HTML page carries the same times, impact and credit as the Markdown."""
    report = await build_incident_report(
        store, config, await seed_outage(store, book), now=REPORT_AT
    )
    page = render_html(report)
    assert "<td>60,000.00</td>" in page
    assert "<td>10%: 200.00 USD</td>" in page
    assert "Time to recover (MTTR): 50m." in page
    assert (
        '<div class="placeholder">To be written: what will keep this from happening again.</div>'
        in page
    )
