"""Stripe request parameters: parsing and validation with Stripe's error codes.

Codes and messages follow https://docs.stripe.com/error-codes; form values
arrive as strings and JSON values as numbers, so both are accepted.
"""

from __future__ import annotations

from typing import Any

from seawall.chaos._http import VendorError
from seawall.chaos.simulators._ledger import TEST_TOKENS

__all__ = [
    "amount",
    "card_number",
    "currency",
    "metadata",
    "optional_str",
    "price_and_amount",
]

_MIN_AMOUNT = 50  # "Amount must be at least $0.50 usd" (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts)
_MAX_AMOUNT = 99_999_999
_PRICE_CATALOG = {"price_basic": 900, "price_pro": 2900, "price_team": 9900}
_DEFAULT_PRICE_AMOUNT = 1000


def optional_str(params: dict[str, Any], name: str) -> str | None:
    """A string parameter, ``None`` when absent or empty."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise VendorError(
            400, f"Invalid string: {value!r}", code="parameter_invalid_string", field=name
        )
    return value


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise VendorError(
            400, f"Invalid integer: {value!r}", code="parameter_invalid_integer", field=name
        )
    text = str(value).strip()
    if not text.lstrip("-").isdigit():
        raise VendorError(
            400, f"Invalid integer: {text}", code="parameter_invalid_integer", field=name
        )
    return int(text)


def amount(params: dict[str, Any]) -> int:
    """``amount`` in the smallest currency unit, within Stripe's charge limits."""
    if params.get("amount") in (None, ""):
        raise VendorError(
            400, "Missing required param: amount.", code="parameter_missing", field="amount"
        )
    value = _integer(params["amount"], "amount")
    if value < _MIN_AMOUNT:
        raise VendorError(
            400, "Amount must be at least $0.50 usd", code="amount_too_small", field="amount"
        )
    if value > _MAX_AMOUNT:
        raise VendorError(
            400, "Amount must be no more than $999,999.99", code="amount_too_large", field="amount"
        )
    return value


def currency(params: dict[str, Any], *, default: str | None = None) -> str:
    """A three-letter ISO currency code, lower-cased as Stripe returns it."""
    value = params.get("currency", default)
    if value in (None, ""):
        raise VendorError(
            400, "Missing required param: currency.", code="parameter_missing", field="currency"
        )
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
        raise VendorError(
            400, f"Invalid currency: {value}.", code="parameter_invalid_string", field="currency"
        )
    return value.lower()


def card_number(params: dict[str, Any]) -> str | None:
    """The card behind ``source``, ``card`` or ``payment_method``: number, object or token."""
    for name in ("source", "card", "payment_method", "default_payment_method"):
        candidate = params.get(name)
        if isinstance(candidate, dict):
            candidate = candidate.get("number")
        if not isinstance(candidate, str) or not candidate:
            continue
        digits = candidate.replace(" ", "").replace("-", "")
        if digits.isdigit():
            if not 12 <= len(digits) <= 19:
                raise VendorError(
                    402,
                    "Your card number is incorrect.",
                    code="incorrect_number",
                    field=name,
                    details={"type": "card_error"},
                )
            return digits
        return TEST_TOKENS.get(candidate, TEST_TOKENS["tok_visa"])
    return None


def price_and_amount(params: dict[str, Any]) -> tuple[str | None, int]:
    """The subscription's price id (``price`` or ``items[0][price]``) and amount per period.

    An explicit ``amount`` wins; otherwise a small catalog prices known ids and
    any other ``price_...`` id costs 10.00, so callers need no price setup.
    """
    price = params.get("price")
    items = params.get("items")
    if price is None and isinstance(items, list) and items and isinstance(items[0], dict):
        price = items[0].get("price")
    if price is not None and not isinstance(price, str):
        raise VendorError(
            400, f"Invalid string: {price!r}", code="parameter_invalid_string", field="price"
        )
    if params.get("amount") not in (None, ""):
        return price, amount(params)
    if price is None:
        raise VendorError(
            400,
            "Missing required param: items[0][price] (or amount).",
            code="parameter_missing",
            field="items",
        )
    return price, _PRICE_CATALOG.get(price, _DEFAULT_PRICE_AMOUNT)


def metadata(params: dict[str, Any]) -> dict[str, str]:
    """``metadata[key]=value`` pairs, as strings (Stripe stores metadata as strings)."""
    given = params.get("metadata")
    if not isinstance(given, dict):
        return {}
    return {str(key): str(value) for key, value in given.items()}
