"""What an email simulator delivered, in order, one entry per recipient.

A test of exactly-once delivery asks: how many times did this recipient get
this message, under which idempotency key, and in what order relative to the
others. Both email dialects (SendGrid, Mailgun) write here.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from seawall._types import Clock
from seawall.chaos._http import WallClock
from seawall.chaos._idempotency import IdempotencyStore

__all__ = ["DeliveredMessage", "DeliveryLog"]

EMAIL_IDEMPOTENCY_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class DeliveredMessage:
    """One message as one recipient received it."""

    recipient: str
    sender: str
    subject: str
    message_id: str
    idempotency_key: str | None
    received_at: float
    dialect: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class DeliveryLog:
    """The ordered list of delivered messages, plus idempotency records."""

    def __init__(self, *, dialect: str, seed: int | None) -> None:
        self.dialect = dialect
        self.clock: Clock = WallClock()
        self._seed = seed
        self.reset()

    def reset(self) -> None:
        self.rng = random.Random(self._seed)
        self.messages: list[DeliveredMessage] = []
        self.idempotency = IdempotencyStore(
            ttl_seconds=EMAIL_IDEMPOTENCY_TTL_SECONDS, clock=self._now
        )

    def _now(self) -> float:
        return self.clock.now()

    @property
    def message_count(self) -> int:
        return len(self.messages)

    def deliver(
        self,
        *,
        recipients: list[str],
        sender: str,
        subject: str,
        message_id: str,
        idempotency_key: str | None,
    ) -> None:
        received_at = self._now()
        for recipient in recipients:
            self.messages.append(
                DeliveredMessage(
                    recipient=recipient,
                    sender=sender,
                    subject=subject,
                    message_id=message_id,
                    idempotency_key=idempotency_key,
                    received_at=received_at,
                    dialect=self.dialect,
                )
            )

    def per_recipient(self) -> dict[str, int]:
        return dict(Counter(message.recipient for message in self.messages))

    def snapshot(self) -> dict[str, Any]:
        return {
            "messages": [message.to_dict() for message in self.messages],
            "message_count": self.message_count,
            "per_recipient": self.per_recipient(),
            "idempotency": self.idempotency.snapshot(),
        }
