"""The public reference configuration loads, and reports each unset variable by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from seawall import ConfigError, load_config
from seawall.config import FallbackCached, FallbackQueue, FindingCode, check_config
from tests.conftest import REFERENCE_ENV


def test_reference_loads_with_variables_set(reference_path: Path) -> None:
    """With every variable set, the contract loads into typed values."""
    config = load_config(reference_path, env=REFERENCE_ENV, check_imports=False)
    payments = config.integrations["payments"]
    assert [p.name for p in payments.providers] == ["stripe", "adyen"]
    assert payments.providers[1].role == "backup"
    assert payments.rto == 300.0
    assert payments.rpo == 60.0
    assert payments.idempotency is not None
    assert payments.idempotency.generate is True
    assert payments.idempotency.ttl == 86400.0
    assert isinstance(config.integrations["inventory"].fallback, FallbackCached)
    assert config.integrations["inventory"].fallback.max_age == 600.0
    assert isinstance(config.integrations["email"].fallback, FallbackQueue)
    assert config.gateway.max_body == 10_000_000
    assert config.slas["stripe-standard"].objectives[0].target == pytest.approx(0.9999)
    assert config.alerts[0].above == pytest.approx(0.05)
    assert config.alerts[0].for_ == 120.0
    assert config.alerts[5].above == "rpo"


def test_integration_policy_merges_over_defaults(reference_path: Path) -> None:
    """An integration's policy block changes only the keys it names."""
    config = load_config(reference_path, env=REFERENCE_ENV, check_imports=False)
    payments = config.policy("payments")
    assert payments.timeout == 5.0
    assert payments.deadline == 10.0
    assert payments.retry.attempts == 2
    assert payments.retry.backoff.initial == pytest.approx(0.1)
    assert payments.retry.on == ("connect-error", "timeout", 429, 502, 503, 504)
    assert payments.retry.budget.ratio == pytest.approx(0.2)
    assert payments.rate_limit is not None
    assert payments.rate_limit.rate == 100.0
    assert payments.rate_limit.burst == 20
    inventory = config.policy("inventory")
    assert inventory.retry.attempts == 3
    assert inventory.rate_limit is None
    assert inventory.circuit_breaker.slow_call is not None
    assert inventory.circuit_breaker.slow_call.rate == pytest.approx(0.8)


def test_secrets_are_hidden_in_reprs(reference_path: Path) -> None:
    """A loaded secret never shows in the model's text form."""
    config = load_config(reference_path, env=REFERENCE_ENV, check_imports=False)
    text = repr(config) + str(config)
    for secret in ("sk_test_reference", "admin-token-for-tests", "SG.test_reference"):
        assert secret not in text


def test_each_unset_variable_is_named(reference_path: Path) -> None:
    """Without the environment, every ${VAR} is reported once, at its own line."""
    _, findings = check_config(reference_path, env={}, check_imports=False)
    unset = [f for f in findings if f.code is FindingCode.UNSET_VARIABLE]
    named = {f.message.split()[2] for f in unset}
    assert named == set(REFERENCE_ENV)
    assert len(unset) == len(REFERENCE_ENV)
    assert all(f.line > 1 for f in unset)
    assert findings == unset


def test_load_config_raises_config_error_with_findings(reference_path: Path) -> None:
    """load_config refuses an invalid file with ConfigError carrying the findings."""
    with pytest.raises(ConfigError) as caught:
        load_config(reference_path, env={"STRIPE_KEY": "x"}, check_imports=False)
    assert len(caught.value.findings) == len(REFERENCE_ENV) - 1
    assert "SEAWALL_ADMIN_TOKEN" in str(caught.value)


def test_reference_adapters_are_checked_when_importing(reference_path: Path) -> None:
    """Without --no-import the adapter paths are resolved and reported when missing."""
    _, findings = check_config(reference_path, env=REFERENCE_ENV, check_imports=True)
    imports = [f for f in findings if f.code is FindingCode.IMPORT]
    assert [f.key_path for f in imports] == [
        "integrations.payments.providers[1].adapter",
        "integrations.email.providers[1].adapter",
    ]
