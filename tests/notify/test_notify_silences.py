"""Silences: exact and wildcard matchers, time bounds, expiry, limits and persistence."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from seawall import ConfigError
from seawall.config._operations import Silence
from seawall.notify import SilenceBook, SilenceRecord

LABELS = {"alertname": "payments-errors", "integration": "payments", "severity": "critical"}


class ListStore:
    """A SilenceStore kept in a list, as the SQL store would keep rows."""

    def __init__(self, records: Sequence[SilenceRecord] = ()) -> None:
        self.rows: dict[str, SilenceRecord] = {r.id: r for r in records}
        self.expired: list[tuple[str, float]] = []

    async def add(self, record: SilenceRecord) -> None:
        self.rows[record.id] = record

    async def expire(self, silence_id: str, at: float) -> None:
        self.expired.append((silence_id, at))

    async def list(self) -> Sequence[SilenceRecord]:
        return list(self.rows.values())


async def test_silence_matches_exact_labels_within_its_time_bounds() -> None:
    """A silence applies on [starts_at, ends_at) and only to labels it matches."""
    book = SilenceBook()
    record = await book.add(
        {"integration": "payments"}, starts_at=100, ends_at=200, comment="deploy", created_by="ana"
    )
    assert book.silenced_by(LABELS, 99) is None
    assert book.silenced_by(LABELS, 100) == record
    assert book.silenced_by(LABELS, 199.9) == record
    assert book.silenced_by(LABELS, 200) is None
    assert book.silenced_by({**LABELS, "integration": "email"}, 150) is None
    assert book.active(150) == [record]
    assert book.active(250) == []
    assert len(record.id) == 36  # a uuid
    assert dataclasses.asdict(record)["matchers"] == {"integration": "payments"}


async def test_wildcard_needs_the_label_and_empty_means_absent() -> None:
    """'*' matches any value of a present label; '' matches a missing label."""
    book = SilenceBook()
    await book.add({"alertname": "payments-errors", "provider": "*"}, starts_at=0, ends_at=10)
    assert book.silenced_by(LABELS, 5) is None
    assert book.silenced_by({**LABELS, "provider": "stripe"}, 5) is not None
    quiet = SilenceBook()
    await quiet.add({"alertname": "payments-errors", "provider": ""}, starts_at=0, ends_at=10)
    assert quiet.silenced_by(LABELS, 5) is not None
    assert quiet.silenced_by({**LABELS, "provider": "stripe"}, 5) is None


async def test_expire_ends_a_live_silence_and_writes_through() -> None:
    """Expiring sets ends_at to the time given; the store hears of it."""
    store = ListStore()
    book = SilenceBook()
    assert await book.load(store) == 0
    record = await book.add({"integration": "payments"}, starts_at=0, ends_at=1000)
    assert store.rows[record.id] == record
    ended = await book.expire(record.id, 300)
    assert ended is not None
    assert ended.ends_at == 300
    assert store.expired == [(record.id, 300)]
    assert book.silenced_by(LABELS, 299) is not None
    assert book.silenced_by(LABELS, 300) is None
    assert await book.expire("no-such-id", 300) is None


async def test_load_restores_kept_silences_and_skips_broken_ones() -> None:
    """Silences kept in the store come back after a restart; invalid rows are skipped."""
    good = SilenceRecord(id="a", matchers={"integration": "payments"}, starts_at=0, ends_at=500)
    broken = SilenceRecord(id="b", matchers={"bad label!": "x"}, starts_at=0, ends_at=500)
    book = SilenceBook()
    assert await book.load(ListStore([good, broken])) == 1
    assert book.get("a") == good
    assert book.get("b") is None
    ended = SilenceRecord(id="c", matchers={"integration": "email"}, starts_at=0, ends_at=50)
    assert await book.load(ListStore([good, ended]), at=100) == 1
    assert book.get("c") is None


async def test_config_silences_use_datetimes_and_are_read_only() -> None:
    """Configuration silences apply from their datetimes and cannot be expired live."""
    silence = Silence(
        matchers={"integration": "payments"},
        starts_at=datetime(2027, 1, 1, tzinfo=UTC),
        ends_at=datetime(2027, 1, 2),  # naive: read as UTC
        comment="migration",
    )
    book = SilenceBook([silence])
    start = datetime(2027, 1, 1, tzinfo=UTC).timestamp()
    assert book.silenced_by(LABELS, start - 1) is None
    record = book.silenced_by(LABELS, start + 3600)
    assert record is not None
    assert record.source == "config"
    assert book.silenced_by(LABELS, start + 86400) is None
    with pytest.raises(ValueError, match="comes from the configuration"):
        await book.expire(record.id, start)


@pytest.mark.parametrize(
    ("matchers", "message"),
    [
        ({}, "at least one matcher"),
        ({"integration": "*"}, "would silence everything"),
        ({"bad-name": "x"}, "is not a label name"),
        ({"integration": "x" * 300}, "at most 256 characters"),
        ({f"l{i}": "x" for i in range(20)}, "at most 16 matchers"),
    ],
)
async def test_bad_silences_are_refused_with_a_clear_message(
    matchers: dict[str, str], message: str
) -> None:
    """Each bound is enforced with a message that says what is wrong."""
    with pytest.raises(ValueError, match=message):
        await SilenceBook().add(matchers, starts_at=0, ends_at=10)


async def test_time_and_text_bounds() -> None:
    """A silence must end after it starts; comments and authors are bounded."""
    book = SilenceBook()
    with pytest.raises(ValueError, match="ends_at must be after starts_at"):
        await book.add({"integration": "payments"}, starts_at=10, ends_at=10)
    with pytest.raises(ValueError, match="comment"):
        await book.add({"integration": "payments"}, starts_at=0, ends_at=10, comment="x" * 2000)
    with pytest.raises(ValueError, match="created_by"):
        await book.add({"integration": "payments"}, starts_at=0, ends_at=10, created_by="x" * 200)


async def test_the_number_of_live_silences_is_bounded() -> None:
    """Past max_silences, adding fails until some end; ended ones free their place."""
    book = SilenceBook(max_silences=2)
    await book.add({"integration": "a"}, starts_at=0, ends_at=10)
    await book.add({"integration": "b"}, starts_at=0, ends_at=100)
    with pytest.raises(ValueError, match="already 2 silences"):
        await book.add({"integration": "c"}, starts_at=5, ends_at=50)
    await book.add({"integration": "c"}, starts_at=20, ends_at=50)  # the first has ended
    assert sorted(r.matchers["integration"] for r in book.records()) == ["b", "c"]


def test_invalid_config_silence_is_a_config_error() -> None:
    """A configuration silence that breaks a bound names its place in the file."""
    silence = Silence(matchers={"integration": "*"}, ends_at=datetime(2027, 1, 2, tzinfo=UTC))
    with pytest.raises(ConfigError, match=r"notifications\.silences\[0\]"):
        SilenceBook([silence])
