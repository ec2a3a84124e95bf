"""The unit parsers accept the documented spellings and refuse the rest clearly."""

from __future__ import annotations

import pytest

from seawall.config import (
    UnitError,
    format_duration,
    parse_duration,
    parse_percentage,
    parse_rate,
    parse_size,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("2s", 2.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("7d", 604800.0),
        ("1h30m", 5400.0),
        ("1.5s", 1.5),
        (0, 0.0),
        ("0m", 0.0),
        ("2w", 1209600.0),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    """Durations in every documented unit become seconds."""
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["5", 5, "5 sec", "-1s", "s", "", True, None, "1y"])
def test_bad_durations(bad: object) -> None:
    """A duration without a known unit is refused."""
    with pytest.raises(UnitError):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("text", "fraction"),
    [("99.9%", 0.999), ("99.99%", 0.9999), (0.999, 0.999), ("0.5", 0.5), ("100%", 1.0), (1, 1.0)],
)
def test_percentages(text: object, fraction: float) -> None:
    """Percentages and fractions become fractions."""
    assert parse_percentage(text) == pytest.approx(fraction)


@pytest.mark.parametrize("bad", ["150%", 99.9, "abc%", "-1%", None])
def test_bad_percentages(bad: object) -> None:
    """Out-of-range or unreadable percentages are refused."""
    with pytest.raises(UnitError):
        parse_percentage(bad)


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("100/s", 100.0), ("6000/m", 100.0), ("36/h", 0.01), ("10 / sec", 10.0)],
)
def test_rates(text: str, per_second: float) -> None:
    """Rates in any period become calls per second."""
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("bad", ["100", 100, "0/s", "10/fortnight"])
def test_bad_rates(bad: object) -> None:
    """A rate without a period, or of zero, is refused."""
    with pytest.raises(UnitError):
        parse_rate(bad)


@pytest.mark.parametrize(
    ("text", "size"),
    [("10MB", 10_000_000), ("512KiB", 524_288), ("1GB", 10**9), (4096, 4096), ("1 mib", 1_048_576)],
)
def test_sizes(text: object, size: int) -> None:
    """Sizes in decimal and binary units become bytes."""
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", ["10 megabytes", -1, 1.5, "MB"])
def test_bad_sizes(bad: object) -> None:
    """Unreadable or fractional sizes are refused."""
    with pytest.raises(UnitError):
        parse_size(bad)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (0.25, "250ms"), (300, "5m"), (5400, "90m"), (86400, "1d"), (2.5, "2.5s")],
)
def test_format_duration(seconds: float, text: str) -> None:
    """Durations print in the shortest exact unit."""
    assert format_duration(seconds) == text
