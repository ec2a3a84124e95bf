"""Fault specifications: what ``POST /_sim/faults`` accepts, validated by pydantic.

Each fault names its ``kind`` and shares the targeting fields: ``path`` (an
fnmatch glob over the request path, ``*`` crosses ``/``), ``method``,
``first`` (fire only for the first N matching requests, then the fault is
spent), ``probability`` (0..1, drawn from the fault's own seeded RNG so a run
is reproducible) and ``seed``.

The kinds mirror how vendors really fail, as seen from a client:

================ =============================================================
latency          add ``ms`` (+ up to ``jitter_ms``) before the request, or
                 with ``phase: processing`` inside the vendor's work
error            answer one of ``statuses`` with probability ``rate``
hang             hold the request open until the client gives up
reset            drop the TCP connection before the vendor handles anything
malformed_json   200 with a truncated JSON body (a proxy cut the response)
drift            rename, remove or retype fields of the JSON response
rate_limit       429 with ``Retry-After``; a token bucket with
                 ``limit_per_second``
commit_then_fail the vendor commits (charge made, key stored), then the
                 connection drops: the case idempotency keys exist for
================ =============================================================
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "FAULT_KINDS",
    "CommitThenFailFault",
    "DriftFault",
    "ErrorFault",
    "FaultSpec",
    "FaultSpecError",
    "HangFault",
    "LatencyFault",
    "MalformedJsonFault",
    "RateLimitFault",
    "ResetFault",
    "parse_fault_spec",
]

FAULT_KINDS = (
    "latency",
    "error",
    "hang",
    "reset",
    "malformed_json",
    "drift",
    "rate_limit",
    "commit_then_fail",
)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
JsonType = Literal["string", "number", "integer", "boolean", "null", "array", "object"]


class FaultSpecError(ValueError):
    """A fault specification is invalid; the message names each bad field."""


class _Targeting(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(default="*", min_length=1, max_length=500)
    method: str | None = None
    first: int | None = Field(default=None, ge=1)
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    seed: int | None = None

    @field_validator("path")
    @classmethod
    def _path_is_a_glob(cls, value: str) -> str:
        if not value.startswith(("/", "*", "?", "[")):
            msg = (
                f"a path pattern starts with '/' or a wildcard, e.g. '/v1/charges*' (got {value!r})"
            )
            raise ValueError(msg)
        return value

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str | None) -> str | None:
        if value is None:
            return None
        method = value.upper()
        if method not in _METHODS:
            msg = f"method must be one of {', '.join(sorted(_METHODS))} (got {value!r})"
            raise ValueError(msg)
        return method


class LatencyFault(_Targeting):
    """Delay the response by ``ms`` plus a uniform ``0..jitter_ms``."""

    kind: Literal["latency"] = "latency"
    ms: float = Field(ge=0, le=600_000)
    jitter_ms: float = Field(default=0.0, ge=0, le=600_000)
    phase: Literal["request", "processing"] = "request"


class ErrorFault(_Targeting):
    """Answer with a status from ``statuses`` for a ``rate`` share of requests.

    ``body`` replaces the vendor-shaped error body; ``headers`` are added.
    """

    kind: Literal["error"] = "error"
    rate: float = Field(default=1.0, ge=0.0, le=1.0)
    statuses: list[Annotated[int, Field(ge=200, le=599)]] = Field(
        default_factory=lambda: [500], min_length=1
    )
    body: Any = None
    headers: dict[str, str] = Field(default_factory=dict)


class HangFault(_Targeting):
    """Hold the request open until the client disconnects or ``max_seconds`` pass (then 504)."""

    kind: Literal["hang"] = "hang"
    max_seconds: float = Field(default=300.0, gt=0, le=3600)


class ResetFault(_Targeting):
    """Drop the connection (TCP RST) before the vendor handles the request."""

    kind: Literal["reset"] = "reset"


class MalformedJsonFault(_Targeting):
    """Run the vendor, then answer 200 with a truncated, unparseable JSON body."""

    kind: Literal["malformed_json"] = "malformed_json"


class DriftFault(_Targeting):
    """Change the JSON response's shape: dotted paths, lists are walked element by element."""

    kind: Literal["drift"] = "drift"
    rename: dict[str, str] = Field(default_factory=dict)
    remove: list[str] = Field(default_factory=list)
    retype: dict[str, JsonType] = Field(default_factory=dict)

    @field_validator("retype", mode="after")
    @classmethod
    def _retype_paths(cls, value: dict[str, JsonType]) -> dict[str, JsonType]:
        for path in value:
            _check_dotted(path)
        return value

    @field_validator("remove", mode="after")
    @classmethod
    def _remove_paths(cls, value: list[str]) -> list[str]:
        for path in value:
            _check_dotted(path)
        return value

    @field_validator("rename", mode="after")
    @classmethod
    def _rename_paths(cls, value: dict[str, str]) -> dict[str, str]:
        for old, new in value.items():
            _check_dotted(old)
            if not new or "." in new:
                msg = f"rename maps a path to a new field name without dots (got {old!r}: {new!r})"
                raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _changes_something(self) -> DriftFault:
        if not (self.rename or self.remove or self.retype):
            msg = "a drift fault needs at least one of rename, remove or retype"
            raise ValueError(msg)
        return self


class RateLimitFault(_Targeting):
    """Answer 429 with ``Retry-After``; with ``limit_per_second``, only past a token bucket."""

    kind: Literal["rate_limit"] = "rate_limit"
    retry_after: int | None = Field(default=None, ge=0, le=86_400)
    limit_per_second: float | None = Field(default=None, gt=0, le=1_000_000)
    burst: int | None = Field(default=None, ge=1, le=1_000_000)


class CommitThenFailFault(_Targeting):
    """Let the vendor commit its effect, then drop the connection without a response."""

    kind: Literal["commit_then_fail"] = "commit_then_fail"


FaultSpec = Annotated[
    LatencyFault
    | ErrorFault
    | HangFault
    | ResetFault
    | MalformedJsonFault
    | DriftFault
    | RateLimitFault
    | CommitThenFailFault,
    Field(discriminator="kind"),
]

_ADAPTER: TypeAdapter[FaultSpec] = TypeAdapter(FaultSpec)


def parse_fault_spec(data: object) -> FaultSpec:
    """Validate a JSON fault spec; :class:`FaultSpecError` says what is wrong and where."""
    if not isinstance(data, dict):
        msg = f"a fault spec is a JSON object with a 'kind' (one of {', '.join(FAULT_KINDS)})"
        raise FaultSpecError(msg)
    if "kind" not in data:
        msg = f"a fault spec needs 'kind', one of {', '.join(FAULT_KINDS)}"
        raise FaultSpecError(msg)
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            location = [str(part) for part in error["loc"]]
            if location and location[0] in FAULT_KINDS:
                location = location[1:]
            if error["type"] == "union_tag_invalid":
                location = ["kind"]
            where = ".".join(location) or "spec"
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {message}")
        raise FaultSpecError("invalid fault spec: " + "; ".join(problems)) from None


def _check_dotted(path: str) -> None:
    if not path or any(not part for part in path.split(".")):
        msg = f"a field path is dot-separated names, e.g. 'main.temp' (got {path!r})"
        raise ValueError(msg)
