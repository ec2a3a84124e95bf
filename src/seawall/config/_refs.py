"""Checks that span sections: names that must point at something, names that
must be unique, adapter import paths that must resolve.

They run on the parsed data even when the model does not validate, so one
``seawall check`` reports every problem at once.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from seawall.config._findings import FindingCode
from seawall.config._source import Source

__all__ = ["check_references", "did_you_mean", "import_object", "resolve_import"]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"``, or a list of the choices when none is close."""
    options = sorted({str(c) for c in choices})
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if options and len(options) <= 12:
        return f" (known: {', '.join(options)})"
    return ""


def _dict(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def check_references(source: Source, *, check_imports: bool = True) -> None:
    data = _dict(source.data)
    integrations = _dict(data.get("integrations"))
    slas = _dict(data.get("slas"))
    notifications = _dict(data.get("notifications"))
    channels = _dict(notifications.get("channels"))
    contacts = _dict(notifications.get("contacts"))
    escalations = _dict(notifications.get("escalations"))

    def ref(path: tuple[str | int, ...], value: Any, known: Iterable[str], what: str) -> None:
        name = _str(value)
        if name is None:
            return
        known = list(known)
        if name not in known:
            source.add(
                path, FindingCode.REFERENCE, f"no {what} named '{name}'{did_you_mean(name, known)}"
            )

    for iname, integration in integrations.items():
        integ = _dict(integration)
        base: tuple[str | int, ...] = ("integrations", iname)
        providers = _list(integ.get("providers"))
        _unique(source, (*base, "providers"), providers, "provider")
        provider_names = [n for p in providers if isinstance(n := _dict(p).get("name"), str)]
        ref((*base, "sla"), integ.get("sla"), slas, "SLA")
        for i, window in enumerate(_list(integ.get("maintenance"))):
            ref(
                (*base, "maintenance", i, "provider"),
                _dict(window).get("provider"),
                provider_names,
                f"provider in integration '{iname}'",
            )
        if (
            integ.get("routing") == "weighted"
            and providers
            and all(_dict(p).get("weight", 1) == 0 for p in providers)
        ):
            source.add(
                (*base, "providers"),
                FindingCode.VALUE,
                "weighted routing needs at least one provider with weight above 0",
            )
        if check_imports:
            for i, provider in enumerate(providers):
                adapter = _str(_dict(provider).get("adapter"))
                if adapter and ":" in adapter:
                    problem = resolve_import(adapter, Path(source.file).parent)
                    if problem:
                        source.add(
                            (*base, "providers", i, "adapter"),
                            FindingCode.IMPORT,
                            f"{problem}; fix the path or run with --no-import",
                        )

    for sname, sla in slas.items():
        sla_d = _dict(sla)
        target = _str(sla_d.get("provider"))
        if target and target.count("/") == 1:
            iname, pname = target.split("/")
            path = ("slas", sname, "provider")
            if iname not in integrations:
                ref(path, iname, integrations, "integration")
            else:
                names = [
                    _dict(p).get("name") for p in _list(_dict(integrations[iname]).get("providers"))
                ]
                ref(
                    path,
                    pname,
                    [n for n in names if isinstance(n, str)],
                    f"provider in integration '{iname}'",
                )
        ref(
            ("slas", sname, "escalation", "contact"),
            _dict(sla_d.get("escalation")).get("contact"),
            contacts,
            "contact",
        )

    alerts = _list(data.get("alerts"))
    _unique(source, ("alerts",), alerts, "alert")
    for i, alert in enumerate(alerts):
        alert_d = _dict(alert)
        iname = _str(alert_d.get("integration"))
        ref(("alerts", i, "integration"), iname, integrations, "integration")
        ref(("alerts", i, "sla"), alert_d.get("sla"), slas, "SLA")
        if iname in integrations:
            integ = _dict(integrations[iname])
            names = [_dict(p).get("name") for p in _list(integ.get("providers"))]
            ref(
                ("alerts", i, "provider"),
                alert_d.get("provider"),
                [n for n in names if isinstance(n, str)],
                f"provider in integration '{iname}'",
            )
            if (
                alert_d.get("metric") == "freshness"
                and "freshness" not in integ
                and alert_d.get("above") is None
            ):
                source.add(
                    ("alerts", i, "metric"),
                    FindingCode.REFERENCE,
                    f"integration '{iname}' has no freshness.max_age to compare against",
                )

    for i, route in enumerate(_list(notifications.get("routes"))):
        route_d = _dict(route)
        for j, channel in enumerate(_list(route_d.get("channels"))):
            ref(("notifications", "routes", i, "channels", j), channel, channels, "channel")
        ref(
            ("notifications", "routes", i, "escalation"),
            route_d.get("escalation"),
            escalations,
            "escalation",
        )
    for ename, steps in escalations.items():
        for i, step in enumerate(_list(steps)):
            for j, target in enumerate(_list(_dict(step).get("notify"))):
                ref(
                    ("notifications", "escalations", ename, i, "notify", j),
                    target,
                    [*channels, *contacts],
                    "channel or contact",
                )

    _unique(source, ("admin", "tokens"), _list(_dict(data.get("admin")).get("tokens")), "token")


def _unique(source: Source, path: tuple[str | int, ...], items: list[Any], what: str) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        name = _str(_dict(item).get("name"))
        if name is None:
            continue
        if name in seen:
            first = source.line_of((*path, seen[name]))
            source.add(
                (*path, i, "name"),
                FindingCode.DUPLICATE_NAME,
                f"{what} '{name}' is defined twice (first on line {first}); names must be unique",
            )
        else:
            seen[name] = i


@contextmanager
def _import_root(root: Path) -> Iterator[None]:
    entry = str(root.resolve())
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added:
            sys.path.remove(entry)


def import_object(target: str, root: Path | None = None) -> Any:
    """Import ``module:Attr`` with the configuration's folder searched first.

    Raises ImportError (with a message fit for the user) when it does not resolve.
    """
    module_name, _, attr_path = target.partition(":")
    with _import_root(root or Path.cwd()):
        try:
            obj: Any = importlib.import_module(module_name)
        except ImportError as exc:
            msg = f"cannot import module '{module_name}' ({exc.msg})"
            raise ImportError(msg) from exc
        except Exception as exc:  # an adapter module may fail any way while importing
            msg = f"importing module '{module_name}' failed: {type(exc).__name__}: {exc}"
            raise ImportError(msg) from exc
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            msg = f"module '{module_name}' has no attribute '{attr_path}'"
            raise ImportError(msg)
        obj = getattr(obj, part)
    return obj


def resolve_import(target: str, root: Path | None = None) -> str | None:
    """Why ``module:Attr`` does not import, or None when it resolves."""
    try:
        import_object(target, root)
    except ImportError as exc:
        return str(exc)
    return None
