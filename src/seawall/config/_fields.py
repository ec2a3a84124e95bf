"""Annotated field types for the configuration model.

Each type parses one of the config's little languages (durations, percentages,
rates, sizes, cron, JSONPath, Apprise URLs, import paths, listen addresses) and
raises a ``PydanticCustomError`` whose type names the finding class, so
``seawall check`` can say *unit* or *value* without parsing messages.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, SecretStr, ValidationInfo
from pydantic_core import PydanticCustomError

from seawall.config import _units

__all__ = [
    "STRICT_UNITS",
    "AppriseUrl",
    "BaseUrl",
    "CronExpr",
    "Duration",
    "HostPort",
    "ImportPath",
    "IpNetwork",
    "JsonPath",
    "Name",
    "Percentage",
    "PositiveDuration",
    "Rate",
    "Secret",
    "Size",
]


STRICT_UNITS = "strict_units"


def _unit(parser: Any) -> Any:
    """Wrap a unit parser. YAML input must spell its unit (``context`` carries
    ``strict_units``); Python callers may pass plain numbers in base units."""

    def validate(value: object, info: ValidationInfo) -> Any:
        strict = bool(info.context and info.context.get(STRICT_UNITS))
        if not strict and isinstance(value, int | float) and not isinstance(value, bool):
            return value
        try:
            return parser(value)
        except _units.UnitError as exc:
            raise PydanticCustomError("unit", str(exc)) from None

    return validate


def _value_error(message: str) -> PydanticCustomError:
    return PydanticCustomError("value", message)


Duration = Annotated[float, BeforeValidator(_unit(_units.parse_duration)), Field(ge=0)]
PositiveDuration = Annotated[float, BeforeValidator(_unit(_units.parse_duration)), Field(gt=0)]
Percentage = Annotated[float, BeforeValidator(_unit(_units.parse_percentage))]
Rate = Annotated[float, BeforeValidator(_unit(_units.parse_rate))]
Size = Annotated[int, BeforeValidator(_unit(_units.parse_size))]

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")


def _name(value: object) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise _value_error(
            f"'{value}' is not a valid name: use lowercase letters, digits, '-', '_' or '.', "
            "at most 63 characters"
        )
    return value


Name = Annotated[str, BeforeValidator(_name)]


def _cron(value: object) -> str:
    from croniter import croniter  # imported here: only configs with cron pay for it

    if not isinstance(value, str) or not croniter.is_valid(value):
        raise _value_error(
            f"'{value}' is not a cron expression: five fields, minute hour day month weekday, "
            "e.g. '0 3 * * SUN'"
        )
    return value


CronExpr = Annotated[str, BeforeValidator(_cron)]


def _jsonpath(value: object) -> str:
    from jsonpath_ng.ext import parse  # type: ignore[attr-defined]  # deferred: a parser generator

    if not isinstance(value, str) or not value.startswith("$"):
        raise _value_error(f"'{value}' is not a JSONPath expression: start with $, e.g. $.id")
    try:
        parse(value)
    except Exception as exc:  # noqa: BLE001 - the parser raises several unrelated types
        raise _value_error(f"'{value}' is not a valid JSONPath expression: {exc}") from None
    return value


JsonPath = Annotated[str, BeforeValidator(_jsonpath)]


def _apprise_url(value: object) -> SecretStr:
    """Apprise URLs carry credentials: validated, then held as a secret."""
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not isinstance(raw, str) or "://" not in raw:
        raise _value_error(
            "not a notification URL: use an Apprise URL such as slack://..., "
            "mailto://..., json://host/path"
        )
    import apprise  # imported here: it loads every notification plugin

    from seawall._secrets import guard_logs

    guard_logs(raw)  # Apprise logs the URLs it loads, tokens and all, at debug level
    if apprise.Apprise.instantiate(raw, suppress_exceptions=True) is None:
        scheme = raw.split("://", 1)[0]
        raise _value_error(
            f"Apprise does not accept this URL (scheme '{scheme}://'); "
            "see the Apprise documentation for the service's URL format"
        )
    return SecretStr(raw)


AppriseUrl = Annotated[SecretStr, BeforeValidator(_apprise_url)]


def _secret(value: object) -> SecretStr:
    if isinstance(value, SecretStr):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PydanticCustomError("type", "expected a string (read it from ${VAR} or ${file:...})")
    if str(value) == "":
        raise _value_error("is empty; set it through ${VAR} or ${file:/path}")
    return SecretStr(str(value))


Secret = Annotated[SecretStr, BeforeValidator(_secret)]

_IMPORT = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*")


def _import_path(value: object) -> str:
    if not isinstance(value, str) or not _IMPORT.fullmatch(value):
        raise _value_error(f"'{value}' is not an import path: write module.path:ClassName")
    return value


ImportPath = Annotated[str, BeforeValidator(_import_path)]


def _base_url(value: object) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("type", "expected a URL such as https://api.vendor.com")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _value_error(f"'{value}' is not an http(s) URL with a host")
    if parts.query or parts.fragment:
        raise _value_error(f"'{value}' must not carry a query or fragment")
    try:
        _ = parts.port
    except ValueError:
        raise _value_error(f"'{value}' has an invalid port") from None
    return value.rstrip("/")


BaseUrl = Annotated[str, BeforeValidator(_base_url)]


def _host_port(value: object) -> tuple[str, int]:
    if isinstance(value, tuple):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("type", "expected HOST:PORT, e.g. 127.0.0.1:8080")
    host, sep, port_text = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise _value_error(f"'{value}' is not HOST:PORT with a port 0-65535, e.g. 127.0.0.1:8080")
    return (host or "0.0.0.0", int(port_text))  # noqa: S104 - ':8080' means all interfaces


HostPort = Annotated[tuple[str, int], BeforeValidator(_host_port)]


def _network(value: object) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        raise _value_error(
            f"'{value}' is not an IP address or CIDR range, e.g. 127.0.0.1/32"
        ) from None


IpNetwork = Annotated[ipaddress.IPv4Network | ipaddress.IPv6Network, BeforeValidator(_network)]
