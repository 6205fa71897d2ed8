"""A stand-in for Kolada's v2 data API, serving the synthetic sample files in ``kolada_synthetic/``.

The dev stack and the tests have no internet, yet the Kolada client should meet the real thing's shape:
the same routes, the same envelope, paging through ``next_page``, JSON errors with 400 and 404. The numbers
and the school units served are invented (see ``kolada_synthetic/README.md``), never Kolada's.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

log = logging.getLogger(__name__)

SAMPLES_DIR = Path(__file__).resolve().parent / "kolada_synthetic"
"""The synthetic sample files shipped with the package."""

MAX_PER_PAGE = 5000
"""Kolada's page size limit, and its default."""

_DATA_ROUTE = re.compile(
    r"^/v2/data/kpi/(?P<kpis>[^/]+)/municipality/(?P<municipalities>[^/]+)/year/(?P<years>[^/]+)/?$"
)
_OU_DATA_ROUTE = re.compile(r"^/v2/oudata/kpi/(?P<kpis>[^/]+)/ou/(?P<units>[^/]+)/year/(?P<years>[^/]+)/?$")
_OU_ROUTE = re.compile(r"^/v2/ou/?$")
_UNIT_ID = re.compile(r"^[A-Z0-9]{4,20}$")
_KPI_ID = re.compile(r"^[A-Z]\d{5}$")
_MUNICIPALITY_ID = re.compile(r"^\d{4}$")
_YEAR = re.compile(r"^\d{4}$")


class KoladaSampleServer:
    """HTTP server on ``host:port`` (0 picks a free port) answering Kolada v2 routes from samples.

    Supports, each with the ``per_page`` and ``page`` query parameters:

    - ``GET /v2/data/kpi/{kpi[,kpi]}/municipality/{id[,id]}/year/{year[,year]}``;
    - ``GET /v2/ou?municipality={id[,id]}&title={part of the title}`` (both optional): the unit listing;
    - ``GET /v2/oudata/kpi/{kpi[,kpi]}/ou/{unit[,unit]}/year/{year[,year]}``: per-unit data, whose data
      objects name the unit under ``ou`` (the Kolada README spells it ``out``; clients accept both).

    Every other path answers 404, malformed ids or years 400.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, samples_dir: Path = SAMPLES_DIR) -> None:
        if not 0 <= port < 65536:
            raise ValueError(f"port must be between 0 and 65535, got {port}")
        self._host = host
        self._requested_port = port
        self._samples_dir = Path(samples_dir)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one once started, also when constructed with 0)."""
        if self._server is None:
            return self._requested_port
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What a Kolada client takes as its base, e.g. ``http://127.0.0.1:8088/v2``."""
        if self._server is None:
            raise RuntimeError("KoladaSampleServer is not started; its port is not known yet")
        return f"http://{self._host}:{self.port}/v2"

    def start(self) -> None:
        """Load the samples and serve them from a daemon thread."""
        if self._server is not None:
            return
        index = load_samples(self._samples_dir)
        units = load_unit_samples(self._samples_dir)
        try:
            server = _SampleHTTPServer((self._host, self._requested_port), _KoladaRequestHandler, index, units)
        except OSError as exc:
            raise RuntimeError(
                f"could not start the Kolada sample server on {self._host}:{self._requested_port}: {exc}"
            ) from exc
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="kolada-sample-server", daemon=True
        )
        self._thread.start()
        log.info("serving synthetic Kolada samples from %s at %s", self._samples_dir, self.base_url)

    def stop(self) -> None:
        """Stop serving and release the port."""
        server, self._server = self._server, None
        thread, self._thread = self._thread, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> KoladaSampleServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


_SampleKey = tuple[str, str, int]
"""(kpi, municipality, year)"""


_DATA_FILES = "synthetic_[A-Z][0-9][0-9][0-9][0-9][0-9].json"
"""Municipality data, one file per KPI (``synthetic_N15419.json``)."""
_UNITS_FILE = "synthetic_ou.json"
_UNIT_DATA_FILES = "synthetic_oudata_[A-Z][0-9][0-9][0-9][0-9][0-9].json"


def load_samples(samples_dir: Path) -> dict[_SampleKey, dict[str, Any]]:
    """Index the municipality data objects of every ``synthetic_<KPI>.json`` in ``samples_dir``."""
    files = sorted(samples_dir.glob(_DATA_FILES))
    if not files:
        raise FileNotFoundError(f"no synthetic_<KPI>.json Kolada sample files in {samples_dir}")
    index: dict[_SampleKey, dict[str, Any]] = {}
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            for data_object in document["values"]:
                key = (str(data_object["kpi"]), str(data_object["municipality"]), int(data_object["period"]))
                index[key] = data_object
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"malformed Kolada sample file {path}: {exc!r}") from exc
    return index


@dataclass(frozen=True)
class UnitSamples:
    """The synthetic organisational units and their per-unit data objects."""

    units: list[dict[str, Any]] = field(default_factory=list)
    """Kolada unit objects ``{"id", "municipality", "title"}`` in listing order."""
    data: dict[_SampleKey, dict[str, Any]] = field(default_factory=dict)
    """(kpi, unit id, year) -> Kolada unit data object."""


def load_unit_samples(samples_dir: Path) -> UnitSamples:
    """The unit listing (``synthetic_ou.json``) and unit data (``synthetic_oudata_<KPI>.json``), if present.

    A samples directory without them serves an empty listing and no unit data.
    """
    samples = UnitSamples()
    units_path = samples_dir / _UNITS_FILE
    if units_path.exists():
        try:
            for unit in json.loads(units_path.read_text(encoding="utf-8"))["values"]:
                samples.units.append(
                    {"id": str(unit["id"]), "municipality": str(unit["municipality"]), "title": str(unit["title"])}
                )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"malformed Kolada sample file {units_path}: {exc!r}") from exc
    for path in sorted(samples_dir.glob(_UNIT_DATA_FILES)):
        try:
            for data_object in json.loads(path.read_text(encoding="utf-8"))["values"]:
                unit_id = data_object["ou"] if "ou" in data_object else data_object["out"]
                key = (str(data_object["kpi"]), str(unit_id), int(data_object["period"]))
                samples.data[key] = data_object
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"malformed Kolada sample file {path}: {exc!r}") from exc
    return samples


class _SampleHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        index: dict[_SampleKey, dict[str, Any]],
        units: UnitSamples,
    ) -> None:
        self.index = index
        self.units = units
        super().__init__(address, handler)


class _BadRequest(Exception):
    pass


class _KoladaRequestHandler(BaseHTTPRequestHandler):
    server: _SampleHTTPServer
    server_version = "LedaKoladaSamples/1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        try:
            if route := _DATA_ROUTE.match(url.path):
                kpis = _split(route["kpis"], _KPI_ID, "kpi id")
                municipalities = _split(route["municipalities"], _MUNICIPALITY_ID, "municipality id")
                years = _years(route["years"])
                items = list(_lookup(self.server.index, kpis, municipalities, years))
            elif route := _OU_DATA_ROUTE.match(url.path):
                kpis = _split(route["kpis"], _KPI_ID, "kpi id")
                units = _split(route["units"], _UNIT_ID, "ou id")
                years = _years(route["years"])
                items = list(_lookup(self.server.units.data, kpis, units, years))
            elif _OU_ROUTE.match(url.path):
                items = self._units(query)
            else:
                self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no route for {url.path}"})
                return
            per_page = _positive_int(query, "per_page", MAX_PER_PAGE)
            page = _positive_int(query, "page", 1)
            if per_page > MAX_PER_PAGE:
                raise _BadRequest(f"per_page must be at most {MAX_PER_PAGE}")
        except _BadRequest as exc:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return

        start = (page - 1) * per_page
        values = items[start : start + per_page]
        body: dict[str, Any] = {"values": values, "count": len(values)}
        if page > 1:
            body["previous_page"] = self._page_url(url.path, query, page - 1, per_page)
        if start + per_page < len(items):
            body["next_page"] = self._page_url(url.path, query, page + 1, per_page)
        self._send_json(HTTPStatus.OK, body)

    def _units(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        units = self.server.units.units
        if query.get("municipality"):
            wanted = set(_split(query["municipality"][-1], _MUNICIPALITY_ID, "municipality id"))
            units = [unit for unit in units if unit["municipality"] in wanted]
        if query.get("title"):
            part = query["title"][-1].casefold()
            units = [unit for unit in units if part in str(unit["title"]).casefold()]
        return units

    def _page_url(self, path: str, query: dict[str, list[str]], page: int, per_page: int) -> str:
        # Kolada returns full URLs; build them from the Host the client used so they lead back here, and keep
        # the other query parameters (the unit listing's municipality and title filters).
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        kept = [(name, value) for name, values in query.items() if name not in {"page", "per_page"} for value in values]
        return f"http://{host}{path}?{urlencode([*kept, ('page', page), ('per_page', per_page)])}"

    def _send_json(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes every request to stderr, which drowns test output.
        log.debug("%s - %s", self.address_string(), format % args)


def _lookup(
    index: dict[_SampleKey, dict[str, Any]], kpis: Sequence[str], places: Sequence[str], years: Sequence[int]
) -> Iterable[dict[str, Any]]:
    """The data objects for every (kpi, municipality or unit, year) asked for, in that nesting order."""
    for kpi in dict.fromkeys(kpis):
        for place in dict.fromkeys(places):
            for year in sorted(set(years)):
                data_object = index.get((kpi, place, year))
                if data_object is not None:
                    yield data_object


def _years(segment: str) -> list[int]:
    return [int(year) for year in _split(segment, _YEAR, "year")]


def _split(segment: str, pattern: re.Pattern[str], what: str) -> list[str]:
    items = segment.split(",")
    bad = [item for item in items if not pattern.match(item)]
    if bad:
        raise _BadRequest(f"malformed {what}: {', '.join(repr(item) for item in bad)}")
    return items


def _positive_int(query: dict[str, list[str]], name: str, default: int) -> int:
    raw = query.get(name)
    if not raw:
        return default
    try:
        value = int(raw[-1])
    except ValueError:
        raise _BadRequest(f"{name} must be an integer, got {raw[-1]!r}") from None
    if value < 1:
        raise _BadRequest(f"{name} must be at least 1, got {value}")
    return value
