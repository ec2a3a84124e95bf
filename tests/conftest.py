"""Shared fixtures: paths to the reference configuration and the variables it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "spec" / "seawall.reference.yaml"

#: every ${VAR} the reference configuration names, with harmless values
REFERENCE_ENV = {
    "SEAWALL_ADMIN_TOKEN": "admin-token-for-tests",
    "STRIPE_KEY": "sk_test_reference",
    "ADYEN_KEY": "adyen_test_reference",
    "SENDGRID_KEY": "SG.test_reference",
    "SLACK_OPS_URL": "json://127.0.0.1:9/",
    "ONCALL_EMAIL_URL": "json://127.0.0.1:9/",
    "LEAD_SMS_URL": "json://127.0.0.1:9/",
    "SEAWALL_BACKUP_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
}


@pytest.fixture(scope="session")
def reference_path() -> Path:
    if not REFERENCE.exists():  # pragma: no cover - the contract ships beside the project
        pytest.fail(f"the reference configuration is missing at {REFERENCE}")
    return REFERENCE
