"""An OpenWeather-like current-weather API: ``GET /data/2.5/weather?q=City``.

Shape as in https://openweathermap.org/current#current_JSON: ``name``,
``main {temp, feels_like, pressure, humidity}``, ``weather [{id, main,
description, icon}]``, ``wind``, ``coord``, ``dt``, ``cod``. ``units`` is
``standard`` (kelvin, the default), ``metric`` or ``imperial``. The weather
of a city is derived from a hash of its name, so it is the same on every run
and every machine; ``dt`` is the current time. Errors are
``{"cod": "404", "message": "city not found"}``.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Any

from aiohttp import web

from seawall._types import Clock
from seawall.chaos._http import VendorError, WallClock, json_response
from seawall.chaos.simulators._base import Vendor

__all__ = [
    "WeatherApi",
    "WeatherState",
    "build_openweather",
    "city_weather",
    "render_openweather_error",
]

_CITY = re.compile(r"^[^\W\d_][\w .,'\-]{0,84}$")
_CONDITIONS: tuple[tuple[int, str, str, str], ...] = (
    (800, "Clear", "clear sky", "01d"),
    (801, "Clouds", "few clouds", "02d"),
    (804, "Clouds", "overcast clouds", "04d"),
    (500, "Rain", "light rain", "10d"),
    (502, "Rain", "heavy intensity rain", "10d"),
    (600, "Snow", "light snow", "13d"),
    (701, "Mist", "mist", "50d"),
    (211, "Thunderstorm", "thunderstorm", "11d"),
)
_COUNTRIES = ("GB", "DE", "FR", "US", "JP", "BR", "IN", "AU", "NL", "ES")


def render_openweather_error(error: VendorError) -> web.Response:
    return json_response(
        {"cod": str(error.status), "message": error.message},
        status=error.status,
        headers=error.headers,
    )


def city_weather(city: str, *, units: str = "standard") -> dict[str, Any]:
    """The deterministic weather of ``city`` (without ``dt``)."""
    digest = hashlib.sha256(city.strip().casefold().encode()).digest()
    kelvin = 253.15 + digest[0] / 255 * 60
    feels = kelvin - digest[1] % 5
    condition_id, main, description, icon = _CONDITIONS[digest[4] % len(_CONDITIONS)]
    latitude = int.from_bytes(digest[7:9], "big") / 65535 * 180 - 90
    longitude = int.from_bytes(digest[9:11], "big") / 65535 * 360 - 180
    return {
        "coord": {"lon": round(longitude, 4), "lat": round(latitude, 4)},
        "weather": [{"id": condition_id, "main": main, "description": description, "icon": icon}],
        "base": "stations",
        "main": {
            "temp": _temperature(kelvin, units),
            "feels_like": _temperature(feels, units),
            "pressure": 980 + digest[3] % 60,
            "humidity": 20 + digest[2] % 81,
        },
        "visibility": 10_000,
        "wind": {
            "speed": round((digest[5] % 150) / 10 * (2.237 if units == "imperial" else 1), 2),
            "deg": digest[6] * 360 // 256,
        },
        "sys": {"country": _COUNTRIES[digest[12] % len(_COUNTRIES)]},
        "id": int.from_bytes(digest[13:16], "big"),
        "name": city.strip().title(),
        "cod": 200,
    }


def _temperature(kelvin: float, units: str) -> float:
    if units == "metric":
        return round(kelvin - 273.15, 2)
    if units == "imperial":
        return round((kelvin - 273.15) * 9 / 5 + 32, 2)
    return round(kelvin, 2)


class WeatherState:
    """How many lookups each city received."""

    def __init__(self) -> None:
        self.clock: Clock = WallClock()
        self.reset()

    def reset(self) -> None:
        self.lookups: Counter[str] = Counter()

    def snapshot(self) -> dict[str, Any]:
        return {"lookups": dict(self.lookups), "lookup_count": sum(self.lookups.values())}


class WeatherApi:
    def __init__(self, state: WeatherState) -> None:
        self.state = state

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/data/2.5/weather", self.current)]

    async def current(self, request: web.Request) -> web.Response:
        city = request.query.get("q", "").split(",")[0].strip()
        if not city:
            raise VendorError(400, "Nothing to geocode")
        if not _CITY.match(city):
            raise VendorError(404, "city not found")
        units = request.query.get("units", "standard")
        if units not in ("standard", "metric", "imperial"):
            units = "standard"
        self.state.lookups[city.casefold()] += 1
        return json_response({**city_weather(city, units=units), "dt": int(self.state.clock.now())})


def build_openweather(seed: int | None) -> Vendor:
    del seed  # weather derives from the city name alone
    state = WeatherState()
    return Vendor(
        kind="weather",
        dialect="openweather",
        state=state,
        routes=WeatherApi(state).routes(),
        render_error=render_openweather_error,
    )
