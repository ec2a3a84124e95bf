"""Message wording: titles, alert lines, hints, and the default evidence."""

from __future__ import annotations

from seawall._secrets import redact
from seawall.notify import AlertView, GroupView, default_evidence
from seawall.notify._messages import Recipient, compose

T = 1_800_000_000.0


def _alert(rule: str = "payments-errors", **kw: object) -> AlertView:
    data: dict[str, object] = {
        "fingerprint": rule,
        "rule": rule,
        "labels": {"alertname": rule, "integration": "payments", "severity": "critical"},
        "state": "firing",
        "summary": f"{rule} is high",
        "severity": "critical",
        "value": 0.1234567,
        "threshold": 0.05,
        "since": T,
        "fired_at": T + 60,
    }
    data.update(kw)
    return AlertView(**data)  # type: ignore[arg-type]


def _group(*alerts: AlertView, **kw: object) -> GroupView:
    data: dict[str, object] = {
        "key": "route0/integration=payments",
        "route": 0,
        "labels": {"integration": "payments"},
        "alerts": alerts,
        "created_at": T,
    }
    data.update(kw)
    return GroupView(**data)  # type: ignore[arg-type]


def test_firing_message_lists_each_alert_with_value_since_and_labels() -> None:
    """The body carries summary, value against threshold, since when, labels and hints."""
    message = compose(
        _group(
            _alert(), _alert("payments-latency", severity="warning", value=None, threshold=None)
        ),
        "firing",
        ack_url="https://seawall.example/ack/abc",
    )
    assert message.title == "[FIRING:2] payments (critical)"
    lines = message.body.splitlines()
    assert lines[0] == "Firing (2):"
    assert "- payments-errors is high" in lines
    assert "  value 0.1235 (threshold 0.05), since 2027-01-15 08:00:00 UTC" in lines
    assert "  labels: alertname=payments-errors, integration=payments, severity=critical" in lines
    assert "  value no data, since 2027-01-15 08:00:00 UTC" in lines
    assert "Acknowledge: https://seawall.example/ack/abc" in lines
    assert lines[-1] == "Group: route0/integration=payments"
    assert any(
        line.startswith("Silence: add a silence with matchers integration=payments")
        for line in lines
    )


def test_resolved_message_and_title() -> None:
    """A resolved group says so in the title and lists when each alert resolved."""
    message = compose(_group(_alert(state="resolved", resolved_at=T + 600)), "resolved")
    assert message.title == "[RESOLVED] payments"
    assert "All alerts of payments have resolved." in message.body
    assert (
        "resolved at 2027-01-15 08:10:00 UTC, firing since 2027-01-15 08:00:00 UTC" in message.body
    )
    assert "Acknowledge" not in message.body


def test_an_escalation_message_names_the_role_and_step() -> None:
    """The recipient reads their role first, then where the chain stands."""
    to = Recipient(role="engineering manager", step=1, steps=3, escalation="critical-path")
    message = compose(_group(_alert()), "escalation", to=to)
    assert message.body.splitlines()[:2] == [
        "You are the engineering manager for this alert.",
        "Escalation critical-path, step 2 of 3.",
    ]


def test_an_external_recipient_gets_evidence_and_no_internal_hints() -> None:
    """A vendor contact sees the evidence, not ack links, silence hints or muted alerts."""
    message = compose(
        _group(_alert(), _alert("other", muted="silenced by x")),
        "escalation",
        to=Recipient(external=True, role="vendor escalation", step=2, steps=3),
        evidence="5 of 10 calls failed",
        ack_url="https://seawall.example/ack/abc",
    )
    assert "Evidence:\n5 of 10 calls failed" in message.body
    for internal in ("Acknowledge", "Silence:", "Muted", "Group:"):
        assert internal not in message.body


def test_an_acknowledged_group_names_who_and_drops_the_link() -> None:
    """Once acknowledged, the message says by whom and stops offering the link."""
    group = _group(_alert(), acked_by="alice", acked_at=T + 100, acknowledged=True)
    message = compose(group, "repeat", ack_url="https://seawall.example/ack/abc")
    assert "Acknowledged by alice at 2027-01-15 08:01:40 UTC." in message.body
    assert "https://seawall.example/ack/abc" not in message.body


def test_long_groups_are_cut_with_a_count() -> None:
    """Past 25 alerts a section ends with how many more there are."""
    alerts = [_alert(f"rule-{i}") for i in range(30)]
    message = compose(_group(*alerts, labels={}), "firing")
    assert message.title.startswith("[FIRING:30] rule-0, rule-1, rule-2 ...")
    assert "... and 5 more" in message.body
    assert "rule-29 is high" not in message.body


def test_default_evidence_lists_values_thresholds_and_times() -> None:
    """Without a store, the evidence is the alert list with values and times."""
    text = default_evidence(_group(_alert(), _alert("gone", state="resolved", resolved_at=T + 5)))
    assert text.splitlines() == [
        "- payments-errors: 0.1235 against 0.05; since 2027-01-15 08:00:00 UTC; firing;"
        " alertname=payments-errors, integration=payments, severity=critical",
        "- gone: 0.1235 against 0.05; since 2027-01-15 08:00:00 UTC;"
        " resolved 2027-01-15 08:00:05 UTC; alertname=gone, integration=payments, severity=critical",
    ]


def test_redact_masks_every_secret_looking_piece_of_a_url() -> None:
    """User, password, token path segments and query values are masked; DNS hosts stay."""
    url = "slack://TokenA1/TokenB22/TokenC333?footer=no&token=verys3cret"
    text = f"failed posting to {url} with TokenB22 and verys3cret at hooks.slack.com"
    clean = redact(text, url)
    for secret in ("TokenA1", "TokenB22", "TokenC333", "verys3cret"):
        assert secret not in clean
    assert "hooks.slack.com" in clean
    mail = "mailtos://opsuser:hunter22@smtp.example.com:465?to=a@b.example"
    assert redact("login opsuser:hunter22 refused by smtp.example.com", mail) == (
        "login ***:*** refused by smtp.example.com"
    )
