"""A corpus of broken configurations: each reports the exact line, key path and class."""

from __future__ import annotations

import textwrap

import pytest

from seawall.config import FindingCode, check_text

ENV = {"TOKEN": "s3cr3t-token-value", "EMPTY": ""}

# (id, yaml, [(line, path, code, message fragment)])
CASES: list[tuple[str, str, list[tuple[int, str, FindingCode, str]]]] = [
    (
        "yaml-syntax-unclosed-flow",
        """
        version: 1
        integrations:
          pay: {providers: [{name: a, base_url: http://a.example}
        """,
        [(4, "(top level)", FindingCode.SYNTAX, "YAML syntax error")],
    ),
    (
        "yaml-syntax-bad-indent",
        """
        version: 1
        gateway:
          listen: 127.0.0.1:8080
         max_body: 10MB
        """,
        [(5, "(top level)", FindingCode.SYNTAX, "YAML syntax error")],
    ),
    (
        "yaml-tab-indentation",
        "version: 1\ngateway:\n\tlisten: 127.0.0.1:8080\n",
        [(3, "(top level)", FindingCode.SYNTAX, "YAML syntax error")],
    ),
    (
        "top-level-not-mapping",
        """
        - version: 1
        """,
        [(2, "(top level)", FindingCode.TYPE, "mapping of sections")],
    ),
    (
        "unknown-top-level-key",
        """
        version: 1
        integration: {}
        """,
        [(3, "integration", FindingCode.UNKNOWN_KEY, "did you mean 'integrations'?")],
    ),
    (
        "unknown-policy-key-did-you-mean",
        """
        version: 1
        defaults:
          policy:
            retries: {attempts: 2}
        """,
        [(5, "defaults.policy.retries", FindingCode.UNKNOWN_KEY, "did you mean 'retry'?")],
    ),
    (
        "unknown-provider-key",
        """
        version: 1
        integrations:
          pay:
            providers:
              - name: a
                base_url: http://a.example
                baseurl: http://b.example
        """,
        [
            (
                8,
                "integrations.pay.providers[0].baseurl",
                FindingCode.UNKNOWN_KEY,
                "did you mean 'base_url'?",
            )
        ],
    ),
    (
        "unknown-key-in-fallback-union",
        """
        version: 1
        integrations:
          inv:
            providers: [{name: a, base_url: http://a.example}]
            fallback: {type: cached, max_agee: 10m}
        """,
        [
            (
                6,
                "integrations.inv.fallback.max_agee",
                FindingCode.UNKNOWN_KEY,
                "did you mean 'max_age'?",
            )
        ],
    ),
    (
        "duplicate-key",
        """
        version: 1
        gateway:
          listen: 127.0.0.1:8080
          listen: 127.0.0.1:9090
        """,
        [(5, "gateway.listen", FindingCode.DUPLICATE_KEY, "first on line 4")],
    ),
    (
        "duplicate-integration-name",
        """
        version: 1
        integrations:
          pay:
            providers: [{name: a, base_url: http://a.example}]
          pay:
            providers: [{name: b, base_url: http://b.example}]
        """,
        [(6, "integrations.pay", FindingCode.DUPLICATE_KEY, "first on line 4")],
    ),
    (
        "duplicate-provider-name",
        """
        version: 1
        integrations:
          pay:
            providers:
              - {name: a, base_url: http://a.example}
              - {name: a, base_url: http://b.example, role: backup}
        """,
        [(7, "integrations.pay.providers[1].name", FindingCode.DUPLICATE_NAME, "defined twice")],
    ),
    (
        "duplicate-alert-name",
        """
        version: 1
        integrations:
          pay:
            providers: [{name: a, base_url: http://a.example}]
        alerts:
          - {name: x, integration: pay, metric: error_rate, above: 5%}
          - {name: x, integration: pay, metric: error_rate, above: 9%}
        """,
        [(8, "alerts[1].name", FindingCode.DUPLICATE_NAME, "defined twice")],
    ),
    (
        "duplicate-token-name",
        """
        version: 1
        admin:
          tokens:
            - {name: ops, token: a, role: admin}
            - {name: ops, token: b, role: viewer}
        """,
        [(6, "admin.tokens[1].name", FindingCode.DUPLICATE_NAME, "defined twice")],
    ),
    (
        "missing-providers",
        """
        version: 1
        integrations:
          pay:
            description: no providers
        """,
        [(4, "integrations.pay.providers", FindingCode.MISSING, "'providers' is missing")],
    ),
    (
        "missing-base-url",
        """
        version: 1
        integrations:
          pay:
            providers:
              - name: a
        """,
        [
            (
                6,
                "integrations.pay.providers[0].base_url",
                FindingCode.MISSING,
                "'base_url' is missing",
            )
        ],
    ),
    (
        "empty-provider-list",
        """
        version: 1
        integrations:
          pay:
            providers: []
        """,
        [(5, "integrations.pay.providers", FindingCode.VALUE, "at least 1")],
    ),
    (
        "fallback-without-type",
        """
        version: 1
        integrations:
          inv:
            providers: [{name: a, base_url: http://a.example}]
            fallback: {max_age: 10m}
        """,
        [(6, "integrations.inv.fallback.type", FindingCode.MISSING, "type")],
    ),
    (
        "fallback-unknown-type",
        """
        version: 1
        integrations:
          inv:
            providers: [{name: a, base_url: http://a.example}]
            fallback: {type: magic}
        """,
        [(6, "integrations.inv.fallback", FindingCode.VALUE, "must be one of")],
    ),
    (
        "duration-without-unit",
        """
        version: 1
        defaults:
          policy:
            timeout: 5
        """,
        [(5, "defaults.policy.timeout", FindingCode.UNIT, "needs a unit")],
    ),
    (
        "duration-bad-unit",
        """
        version: 1
        defaults:
          policy:
            deadline: 10 seconds
        """,
        [(5, "defaults.policy.deadline", FindingCode.UNIT, "not a duration")],
    ),
    (
        "duration-negative",
        """
        version: 1
        defaults:
          policy:
            circuit_breaker: {open_for: -5s}
        """,
        [(5, "defaults.policy.circuit_breaker.open_for", FindingCode.UNIT, "not a duration")],
    ),
    (
        "percentage-out-of-range",
        """
        version: 1
        defaults:
          policy:
            circuit_breaker: {failure_rate: 150%}
        """,
        [(5, "defaults.policy.circuit_breaker.failure_rate", FindingCode.UNIT, "outside 0%..100%")],
    ),
    (
        "percentage-as-big-number",
        """
        version: 1
        defaults:
          policy:
            retry: {budget: {ratio: 20}}
        """,
        [(5, "defaults.policy.retry.budget.ratio", FindingCode.UNIT, "write 20%")],
    ),
    (
        "rate-without-period",
        """
        version: 1
        integrations:
          pay:
            providers: [{name: a, base_url: http://a.example}]
            policy:
              rate_limit: {rate: 100, burst: 5}
        """,
        [(7, "integrations.pay.policy.rate_limit.rate", FindingCode.UNIT, "not a rate")],
    ),
    (
        "size-bad-unit",
        """
        version: 1
        gateway:
          max_body: 10 megabytes
        """,
        [(4, "gateway.max_body", FindingCode.UNIT, "not a size")],
    ),
    (
        "wrong-type-attempts",
        """
        version: 1
        defaults:
          policy:
            retry: {attempts: three}
        """,
        [(5, "defaults.policy.retry.attempts", FindingCode.TYPE, "whole number")],
    ),
    (
        "wrong-type-providers-mapping",
        """
        version: 1
        integrations:
          pay:
            providers: {name: a}
        """,
        [(5, "integrations.pay.providers", FindingCode.TYPE, "list")],
    ),
    (
        "wrong-type-bool",
        """
        version: 1
        gateway:
          egress: {allow_private_networks: maybe}
        """,
        [(4, "gateway.egress.allow_private_networks", FindingCode.TYPE, "true or false")],
    ),
    (
        "attempts-out-of-range",
        """
        version: 1
        defaults:
          policy:
            retry: {attempts: 0}
        """,
        [(5, "defaults.policy.retry.attempts", FindingCode.VALUE, "greater than or equal to 1")],
    ),
    (
        "bad-criticality",
        """
        version: 1
        integrations:
          pay:
            criticality: urgent
            providers: [{name: a, base_url: http://a.example}]
        """,
        [(5, "integrations.pay.criticality", FindingCode.VALUE, "'critical'")],
    ),
    (
        "bad-routing",
        """
        version: 1
        integrations:
          pay:
            routing: round-robin
            providers: [{name: a, base_url: http://a.example}]
        """,
        [(5, "integrations.pay.routing", FindingCode.VALUE, "'least-latency'")],
    ),
    (
        "bad-base-url-scheme",
        """
        version: 1
        integrations:
          pay:
            providers: [{name: a, base_url: ftp://a.example}]
        """,
        [(5, "integrations.pay.providers[0].base_url", FindingCode.VALUE, "not an http(s) URL")],
    ),
    (
        "bad-listen",
        """
        version: 1
        gateway:
          listen: localhost
        """,
        [(4, "gateway.listen", FindingCode.VALUE, "HOST:PORT")],
    ),
    (
        "bad-egress-cidr",
        """
        version: 1
        gateway:
          egress: {allow: [127.0.0.300/32]}
        """,
        [(4, "gateway.egress.allow[0]", FindingCode.VALUE, "CIDR")],
    ),
    (
        "bad-retry-condition",
        """
        version: 1
        defaults:
          policy:
            retry: {on: [timeout, 999]}
        """,
        [(5, "defaults.policy.retry.on[1]", FindingCode.VALUE, "not a retry condition")],
    ),
    (
        "bad-cron",
        """
        version: 1
        integrations:
          mail:
            providers: [{name: a, base_url: http://a.example}, {name: b, role: backup, base_url: http://b.example}]
            maintenance:
              - {provider: a, cron: "0 25 * * *", duration: 30m}
        """,
        [(7, "integrations.mail.maintenance[0].cron", FindingCode.VALUE, "not a cron expression")],
    ),
    (
        "bad-jsonpath",
        """
        version: 1
        governance:
          redact: [card.number]
        """,
        [(4, "governance.redact[0]", FindingCode.VALUE, "not a JSONPath")],
    ),
    (
        "bad-jsonpath-syntax",
        """
        version: 1
        governance:
          redact: ["$..[("]
        """,
        [(4, "governance.redact[0]", FindingCode.VALUE, "not a valid JSONPath")],
    ),
    (
        "bad-apprise-url",
        """
        version: 1
        notifications:
          channels:
            ops: {url: "nosuchservice://host/path"}
        """,
        [(5, "notifications.channels.ops.url", FindingCode.VALUE, "Apprise")],
    ),
    (
        "bad-adapter-path",
        """
        version: 1
        integrations:
          pay:
            providers: [{name: a, base_url: http://a.example, adapter: "not a path"}]
        """,
        [(5, "integrations.pay.providers[0].adapter", FindingCode.VALUE, "not an import path")],
    ),
    (
        "adapter-import-fails",
        """
        version: 1
        integrations:
          pay:
            providers: [{name: a, base_url: http://a.example, adapter: "no_such_module_xyz:Adapter"}]
        """,
        [(5, "integrations.pay.providers[0].adapter", FindingCode.IMPORT, "cannot import module")],
    ),
    (
        "adapter-attribute-missing",
        """
        version: 1
        integrations:
          pay:
            providers: [{name: a, base_url: http://a.example, adapter: "json:NoSuchAdapter"}]
        """,
        [(5, "integrations.pay.providers[0].adapter", FindingCode.IMPORT, "has no attribute")],
    ),
    (
        "unset-variable",
        """
        version: 1
        admin:
          tokens:
            - {name: ops, token: "${SEAWALL_NOT_SET_TOKEN}", role: admin}
        """,
        [
            (
                5,
                "admin.tokens[0].token",
                FindingCode.UNSET_VARIABLE,
                "SEAWALL_NOT_SET_TOKEN is not set",
            )
        ],
    ),
    (
        "unset-variable-unquoted-in-flow",
        """
        version: 1
        integrations:
          pay:
            providers:
              - name: a
                base_url: http://a.example
                auth: {type: bearer, token: ${NOT_SET_KEY}}
        """,
        [
            (
                8,
                "integrations.pay.providers[0].auth.token",
                FindingCode.UNSET_VARIABLE,
                "NOT_SET_KEY",
            )
        ],
    ),
    (
        "bad-variable-syntax",
        """
        version: 1
        store: "${1BAD}"
        """,
        [(3, "store", FindingCode.VALUE, "not a valid reference")],
    ),
    (
        "unreadable-secret-file",
        """
        version: 1
        admin:
          tokens:
            - {name: ops, token: "${file:/nonexistent/seawall/token}"}
        """,
        [(5, "admin.tokens[0].token", FindingCode.FILE, "cannot be read")],
    ),
    (
        "empty-variable-is-empty-secret",
        """
        version: 1
        admin:
          tokens:
            - {name: ops, token: "${EMPTY}"}
        """,
        [(5, "admin.tokens[0].token", FindingCode.VALUE, "is empty")],
    ),
    (
        "dangling-sla-reference",
        """
        version: 1
        integrations:
          pay:
            providers: [{name: a, base_url: http://a.example}]
            sla: stripe-standrd
        slas:
          stripe-standard:
            provider: pay/a
            objectives: [{metric: availability, target: 99.9%}]
        """,
        [(6, "integrations.pay.sla", FindingCode.REFERENCE, "did you mean 'stripe-standard'?")],
    ),
    (
        "sla-unknown-provider",
        """
        version: 1
        integrations:
          pay:
            providers: [{name: stripe, base_url: http://a.example}]
        slas:
          s:
            provider: pay/strip
            objectives: [{metric: availability, target: 99.9%}]
        """,
        [(8, "slas.s.provider", FindingCode.REFERENCE, "did you mean 'stripe'?")],
    ),
    (
        "sla-unknown-integration",
        """
        version: 1
        integrations:
          pay:
            providers: [{name: stripe, base_url: http://a.example}]
        slas:
          s:
            provider: payment/stripe
            objectives: [{metric: availability, target: 99.9%}]
        """,
        [(8, "slas.s.provider", FindingCode.REFERENCE, "no integration named 'payment'")],
    ),
    (
        "sla-credit-tiers-out-of-order",
        """
        version: 1
        integrations:
          pay:
            providers: [{name: stripe, base_url: http://a.example}]
        slas:
          s:
            provider: pay/stripe
            objectives: [{metric: availability, target: 99.9%}]
            credits:
              - {below: 99.0%, credit: 50%}
              - {below: 99.9%, credit: 10%}
        """,
        [(7, "slas.s", FindingCode.VALUE, "credit tiers")],
    ),
    (
        "alert-unknown-integration",
        """
        version: 1
        integrations:
          payments:
            providers: [{name: a, base_url: http://a.example}]
        alerts:
          - {name: x, integration: payment, metric: error_rate, above: 5%}
        """,
        [(7, "alerts[0].integration", FindingCode.REFERENCE, "did you mean 'payments'?")],
    ),
    (
        "alert-unknown-sla",
        """
        version: 1
        alerts:
          - name: burn
            sla: nope
            burn_rate: {long: 1h, short: 5m, factor: 14.4}
        """,
        [(5, "alerts[0].sla", FindingCode.REFERENCE, "no SLA named 'nope'")],
    ),
    (
        "alert-bad-metric",
        """
        version: 1
        integrations:
          pay:
            providers: [{name: a, base_url: http://a.example}]
        alerts:
          - {name: x, integration: pay, metric: errors, above: 5%}
        """,
        [(7, "alerts[0].metric", FindingCode.VALUE, "'error_rate'")],
    ),
    (
        "alert-threshold-wrong-unit",
        """
        version: 1
        integrations:
          pay:
            providers: [{name: a, base_url: http://a.example}]
        alerts:
          - {name: x, integration: pay, metric: latency_p95, above: 5%}
        """,
        [(7, "alerts[0]", FindingCode.UNIT, "not a duration")],
    ),
    (
        "alert-freshness-without-block",
        """
        version: 1
        integrations:
          inv:
            providers: [{name: a, base_url: http://a.example}]
        alerts:
          - {name: stale, integration: inv, metric: freshness}
        """,
        [(7, "alerts[0].metric", FindingCode.REFERENCE, "no freshness.max_age")],
    ),
    (
        "route-unknown-channel",
        """
        version: 1
        notifications:
          channels:
            slack-ops: {url: "json://127.0.0.1:9/"}
          routes:
            - match: {}
              channels: [slack-opz]
        """,
        [
            (
                8,
                "notifications.routes[0].channels[0]",
                FindingCode.REFERENCE,
                "did you mean 'slack-ops'?",
            )
        ],
    ),
    (
        "route-unknown-escalation",
        """
        version: 1
        notifications:
          routes:
            - match: {severity: critical}
              escalation: critical-pth
          escalations:
            critical-path:
              - {after: 0m, notify: [], role: on-call}
        """,
        [
            (
                6,
                "notifications.routes[0].escalation",
                FindingCode.REFERENCE,
                "did you mean 'critical-path'?",
            ),
            (
                9,
                "notifications.escalations.critical-path[0].notify",
                FindingCode.VALUE,
                "at least 1",
            ),
        ],
    ),
    (
        "escalation-notifies-unknown",
        """
        version: 1
        notifications:
          channels:
            slack-ops: {url: "json://127.0.0.1:9/"}
          contacts:
            vendor-stripe: {name: Stripe support}
          escalations:
            path:
              - {after: 0m, notify: [slack-ops, vendor-strip], role: on-call}
        """,
        [
            (
                10,
                "notifications.escalations.path[0].notify[1]",
                FindingCode.REFERENCE,
                "did you mean 'vendor-stripe'?",
            )
        ],
    ),
    (
        "maintenance-unknown-provider",
        """
        version: 1
        integrations:
          mail:
            providers: [{name: sendgrid, base_url: http://a.example}]
            maintenance:
              - {provider: sendgird, cron: "0 3 * * SUN", duration: 30m}
        """,
        [
            (
                7,
                "integrations.mail.maintenance[0].provider",
                FindingCode.REFERENCE,
                "did you mean 'sendgrid'?",
            )
        ],
    ),
    (
        "failover-with-only-backups",
        """
        version: 1
        integrations:
          pay:
            providers: [{name: a, role: backup, base_url: http://a.example}]
        """,
        [(4, "integrations.pay", FindingCode.VALUE, "role: backup")],
    ),
    (
        "bad-backup-key",
        """
        version: 1
        backups:
          storage: file:///tmp/seawall-backups
          encryption_key: "c2hvcnQ="
        """,
        [(5, "backups.encryption_key", FindingCode.VALUE, "not 32")],
    ),
    (
        "bad-version",
        """
        version: 2
        """,
        [(2, "version", FindingCode.VALUE, "must be one of 1")],
    ),
    (
        "bad-store-url",
        """
        version: 1
        store: mysql://db/seawall
        """,
        [(3, "store", FindingCode.VALUE, "pattern")],
    ),
    (
        "classification-overlap",
        """
        version: 1
        defaults:
          policy:
            classify: {final: [402], failure: [402]}
        """,
        [(5, "defaults.policy.classify", FindingCode.VALUE, "both as final and as failure")],
    ),
    (
        "yaml-merge-key",
        """
        version: 1
        base: &b {timeout: 2s}
        defaults:
          policy:
            <<: *b
        """,
        [
            (3, "base", FindingCode.UNKNOWN_KEY, "unknown key 'base'"),
            (6, "defaults.policy", FindingCode.VALUE, "merge keys"),
        ],
    ),
]


def test_corpus_is_large_enough() -> None:
    """The corpus holds at least forty broken configurations."""
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    ("yaml_text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_broken_config_reports_exact_location(
    yaml_text: str, expected: list[tuple[int, str, FindingCode, str]]
) -> None:
    """Each broken configuration yields exactly the expected findings, no more."""
    text = textwrap.dedent(yaml_text)
    config, findings = check_text(text, file="broken.yaml", env=ENV)
    assert config is None
    got = [(f.line, f.key_path, f.code) for f in findings]
    assert got == [(line, path, code) for line, path, code, _ in expected], [
        str(f) for f in findings
    ]
    for finding, (_, _, _, fragment) in zip(findings, expected, strict=True):
        assert fragment in finding.message, str(finding)
        assert str(finding).startswith(f"broken.yaml:{finding.line}: {finding.key_path}: ")
        assert "s3cr3t-token-value" not in str(finding)
