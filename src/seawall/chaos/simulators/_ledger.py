"""The payment ledger both payment dialects (Stripe, Adyen) write to.

It answers the questions a resilience test asks of a payment provider: how
many charges were really made, for which customer and subscription, and which
idempotency keys it has seen. ``charges`` holds only successful charges (money
taken); declined attempts go to ``declines``.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from seawall._types import Clock
from seawall.chaos._http import WallClock, make_id
from seawall.chaos._idempotency import IdempotencyStore

__all__ = [
    "BILLING_PERIOD_SECONDS",
    "TEST_TOKENS",
    "CardOutcome",
    "Charge",
    "PaymentLedger",
    "Subscription",
    "card_outcome",
]

BILLING_PERIOD_SECONDS = 30 * 86_400

# Stripe's test cards (https://docs.stripe.com/testing#declined-payments);
# the Adyen dialect honours the same numbers so both providers refuse alike.
_DECLINED: dict[str, tuple[str, str, str]] = {
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "4000000000000069": ("expired_card", "expired_card", "Your card has expired."),
}
TEST_TOKENS: dict[str, str] = {
    "tok_visa": "4242424242424242",
    "pm_card_visa": "4242424242424242",
    "tok_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclined": "4000000000000002",
    "tok_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "tok_chargeDeclinedExpiredCard": "4000000000000069",
}
_DEFAULT_CARD = "4242424242424242"


@dataclass(frozen=True, slots=True)
class CardOutcome:
    """What the card network says about one card number."""

    approved: bool
    last4: str
    brand: str
    failure_code: str | None = None
    decline_code: str | None = None
    message: str = ""


def card_outcome(number: str | None) -> CardOutcome:
    """Approve any card except the documented decline test numbers."""
    digits = number or _DEFAULT_CARD
    brand = {"4": "visa", "5": "mastercard", "3": "amex"}.get(digits[:1], "unknown")
    declined = _DECLINED.get(digits)
    if declined is None:
        return CardOutcome(approved=True, last4=digits[-4:], brand=brand)
    failure_code, decline_code, message = declined
    return CardOutcome(
        approved=False,
        last4=digits[-4:],
        brand=brand,
        failure_code=failure_code,
        decline_code=decline_code,
        message=message,
    )


@dataclass(slots=True)
class Charge:
    """One charge attempt, in a dialect-neutral shape."""

    id: str
    amount: int
    currency: str
    status: str  # "succeeded" or "failed"
    created: int
    dialect: str
    card_last4: str
    card_brand: str
    customer: str | None = None
    subscription: str | None = None
    reference: str | None = None
    description: str | None = None
    failure_code: str | None = None
    decline_code: str | None = None
    failure_message: str | None = None
    idempotency_key: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Subscription:
    """A recurring charge of ``amount`` every billing period."""

    id: str
    customer: str
    amount: int
    currency: str
    price: str | None
    status: str
    created: int
    current_period_start: int
    current_period_end: int
    charge_ids: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PaymentLedger:
    """Charges, declines, subscriptions and idempotency records of one payment simulator."""

    def __init__(self, *, dialect: str, seed: int | None, idempotency_ttl_seconds: float) -> None:
        self.dialect = dialect
        self.clock: Clock = WallClock()
        self._seed = seed
        self._ttl = idempotency_ttl_seconds
        self.reset()

    def reset(self) -> None:
        self.rng = random.Random(self._seed)
        self.charges: list[Charge] = []
        self.declines: list[Charge] = []
        self.subscriptions: dict[str, Subscription] = {}
        self.idempotency = IdempotencyStore(ttl_seconds=self._ttl, clock=self._now)

    def _now(self) -> float:
        return self.clock.now()

    def now(self) -> int:
        return int(self.clock.now())

    @property
    def charge_count(self) -> int:
        """Successful charges: money actually taken."""
        return len(self.charges)

    def charges_by_customer(self) -> dict[str, int]:
        return dict(Counter(c.customer for c in self.charges if c.customer is not None))

    def charges_by_subscription(self) -> dict[str, int]:
        return dict(Counter(c.subscription for c in self.charges if c.subscription is not None))

    def find_charge(self, charge_id: str) -> Charge | None:
        for charge in (*self.charges, *self.declines):
            if charge.id == charge_id:
                return charge
        return None

    def new_charge_id(self) -> str:
        if self.dialect == "adyen":
            # pspReference: 16 characters, digits and capitals (e.g. "993617895204576J").
            return make_id(self.rng, "", 16, "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")
        return make_id(self.rng, "ch_", 24)

    def record_charge(
        self,
        *,
        amount: int,
        currency: str,
        outcome: CardOutcome,
        customer: str | None = None,
        subscription: str | None = None,
        reference: str | None = None,
        description: str | None = None,
        idempotency_key: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Charge:
        charge = Charge(
            id=self.new_charge_id(),
            amount=amount,
            currency=currency,
            status="succeeded" if outcome.approved else "failed",
            created=self.now(),
            dialect=self.dialect,
            card_last4=outcome.last4,
            card_brand=outcome.brand,
            customer=customer,
            subscription=subscription,
            reference=reference,
            description=description,
            failure_code=outcome.failure_code,
            decline_code=outcome.decline_code,
            failure_message=outcome.message or None,
            idempotency_key=idempotency_key,
            metadata=dict(metadata or {}),
        )
        (self.charges if outcome.approved else self.declines).append(charge)
        return charge

    def open_subscription(
        self, *, customer: str, amount: int, currency: str, price: str | None
    ) -> Subscription:
        now = self.now()
        subscription = Subscription(
            id=make_id(self.rng, "sub_", 24),
            customer=customer,
            amount=amount,
            currency=currency,
            price=price,
            status="active",
            created=now,
            current_period_start=now,
            current_period_end=now + BILLING_PERIOD_SECONDS,
        )
        self.subscriptions[subscription.id] = subscription
        return subscription

    def bill(
        self, subscription: Subscription, *, outcome: CardOutcome, idempotency_key: str | None
    ) -> Charge:
        """Charge one period of ``subscription``; a success advances the period."""
        charge = self.record_charge(
            amount=subscription.amount,
            currency=subscription.currency,
            outcome=outcome,
            customer=subscription.customer,
            subscription=subscription.id,
            description=f"Subscription {subscription.id}",
            idempotency_key=idempotency_key,
            metadata={"subscription": subscription.id},
        )
        if charge.succeeded:
            subscription.charge_ids.append(charge.id)
        return charge

    def renew(self, subscription: Subscription, *, idempotency_key: str | None) -> Charge:
        charge = self.bill(
            subscription, outcome=card_outcome(None), idempotency_key=idempotency_key
        )
        subscription.current_period_start = subscription.current_period_end
        subscription.current_period_end += BILLING_PERIOD_SECONDS
        return charge

    def snapshot(self) -> dict[str, Any]:
        return {
            "charges": [charge.to_dict() for charge in self.charges],
            "charge_count": self.charge_count,
            "declines": [charge.to_dict() for charge in self.declines],
            "decline_count": len(self.declines),
            "charges_by_customer": self.charges_by_customer(),
            "charges_by_subscription": self.charges_by_subscription(),
            "subscriptions": [sub.to_dict() for sub in self.subscriptions.values()],
            "idempotency": self.idempotency.snapshot(),
        }
