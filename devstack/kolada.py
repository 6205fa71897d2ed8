"""A stand-in for Kolada's v3 API, serving the synthetic sample files in ``kolada_synthetic/``.

The dev stack and the tests have no internet, yet the Kolada client should meet the real thing's shape: the same
routes, the same envelope (``values``, ``count``, ``next_url``/``previous_url`` as full addresses), several pages for
a large request, JSON errors with 400 and 404, and the 25-item limit on each list of a data request. It can also
misbehave on purpose (``inject``): answer slowly, with 429 and a Retry-After, with 500, cut a body short, or send an
empty page, so the client's retries and the activity's failures are tested against a server, not a mock. The
numbers and the school units served are invented (see ``kolada_synthetic/README.md``), never Kolada's.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

log = logging.getLogger(__name__)

SAMPLES_DIR = Path(__file__).resolve().parent / "kolada_synthetic"
"""The synthetic sample files shipped with the package."""

MAX_PER_PAGE = 5000
"""Kolada's page size limit, and its default."""

ITEMS_PER_LIST = 25
"""The most ids or years Kolada accepts in one list of a data request's path."""

_DATA_ROUTE = re.compile(
    r"^/v3/data/kpi/(?P<kpis>[^/]+)/municipality/(?P<municipalities>[^/]+)/year/(?P<years>[^/]+)/?$"
)
_OU_DATA_ROUTE = re.compile(r"^/v3/oudata/kpi/(?P<kpis>[^/]+)/ou/(?P<units>[^/]+)/year/(?P<years>[^/]+)/?$")
_OU_ROUTE = re.compile(r"^/v3/ou/?$")
_KPI_ROUTE = re.compile(r"^/v3/kpi(?:/(?P<ids>[^/]+))?/?$")
_MUNICIPALITY_ROUTE = re.compile(r"^/v3/municipality(?:/(?P<ids>[^/]+))?/?$")
_GROUPS_ROUTE = re.compile(r"^/v3/municipality_groups(?:/(?P<ids>[^/]+))?/?$")
_UNIT_ID = re.compile(r"^[A-Z0-9]{4,20}$")
_KPI_ID = re.compile(r"^[A-Z]\d{5}$")
_MUNICIPALITY_ID = re.compile(r"^\d{4}$")
_GROUP_ID = re.compile(r"^[A-Z0-9_]{2,20}$")
_YEAR = re.compile(r"^\d{4}$")

FaultKind = Literal["slow", "429", "500", "truncated", "empty_page"]


@dataclass
class Fault:
    """A misbehaviour the server shows the next ``times`` requests whose path contains ``path``.

    ``slow`` waits ``seconds`` before answering; ``429`` answers Too Many Requests with ``Retry-After: seconds``;
    ``500`` an internal server error; ``truncated`` sends half the body and closes the connection; ``empty_page``
    answers a page with no values whose ``next_url`` leads on to the real one.
    """

    kind: FaultKind
    times: int = 1
    path: str = ""
    seconds: float = 0.0


class KoladaSampleServer:
    """HTTP server on ``host:port`` (0 picks a free port) answering Kolada v3 routes from samples.

    Supports, each with the ``per_page`` and ``page`` query parameters:

    - ``GET /v3/data/kpi/{kpi[,kpi]}/municipality/{id[,id]}/year/{year[,year]}``;
    - ``GET /v3/ou?municipality={id[,id]}&title={part of the title}`` (both optional): the unit listing;
    - ``GET /v3/oudata/kpi/{kpi[,kpi]}/ou/{unit[,unit]}/year/{year[,year]}``: per-unit data, whose data
      objects name the unit under ``ou``;
    - ``GET /v3/kpi/{id[,id]}`` and ``/v3/kpi``: KPI metadata (``synthetic_kpi.json``);
    - ``GET /v3/municipality[/{id[,id]}]`` and ``/v3/municipality_groups[/{id[,id]}]``
      (``synthetic_municipality.json``, ``synthetic_municipality_groups.json``).

    A list of more than 25 ids or years answers 400, as Kolada does; every other path (v2 among them) 404.
    ``page_size`` is how many values a page holds when the request does not say (Kolada's default is its maximum,
    5000; the embedded stack serves smaller pages, so the demo's data pack comes over several, as a large one does).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        samples_dir: Path = SAMPLES_DIR,
        *,
        page_size: int = MAX_PER_PAGE,
    ) -> None:
        if not 0 <= port < 65536:
            raise ValueError(f"port must be between 0 and 65535, got {port}")
        if not 1 <= page_size <= MAX_PER_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_PER_PAGE}, got {page_size}")
        self._host = host
        self._requested_port = port
        self._samples_dir = Path(samples_dir)
        self._page_size = page_size
        self._server: _SampleHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.requests: list[str] = []
        """The path and query of every request served, in order (tests count pages and retries with it)."""

    def inject(self, *faults: Fault) -> None:
        """Misbehave as ``faults`` say, in order, for the requests to come."""
        with self._lock:
            self._faults.extend(faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def page_size(self) -> int:
        """Values a page holds when a request does not say."""
        return self._page_size

    def next_fault(self, path: str) -> Fault | None:
        """Note a request to ``path``, and the fault it meets, if any (counting it against its ``times``)."""
        with self._lock:
            self.requests.append(path)
            for fault in self._faults:
                if fault.times > 0 and fault.path in path:
                    fault.times -= 1
                    return fault
        return None

    @property
    def port(self) -> int:
        """The bound port (the real one once started, also when constructed with 0)."""
        if self._server is None:
            return self._requested_port
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What a Kolada client takes as its base, e.g. ``http://127.0.0.1:8088/v3``."""
        if self._server is None:
            raise RuntimeError("KoladaSampleServer is not started; its port is not known yet")
        return f"http://{self._host}:{self.port}/v3"

    def start(self) -> None:
        """Load the samples and serve them from a daemon thread."""
        if self._server is not None:
            return
        index = load_samples(self._samples_dir)
        units = load_unit_samples(self._samples_dir)
        metadata = load_metadata(self._samples_dir)
        try:
            server = _SampleHTTPServer(
                (self._host, self._requested_port), _KoladaRequestHandler, index, units, metadata, self
            )
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


_METADATA_FILES = {
    "kpi": "synthetic_kpi.json",
    "municipality": "synthetic_municipality.json",
    "municipality_groups": "synthetic_municipality_groups.json",
}


def load_metadata(samples_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """The metadata listings (KPIs, municipalities, municipality groups) in ``samples_dir``; absent files are empty."""
    metadata: dict[str, list[dict[str, Any]]] = {}
    for kind, name in _METADATA_FILES.items():
        path = samples_dir / name
        try:
            metadata[kind] = json.loads(path.read_text(encoding="utf-8"))["values"] if path.exists() else []
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"malformed Kolada sample file {path}: {exc!r}") from exc
    return metadata


class _SampleHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        index: dict[_SampleKey, dict[str, Any]],
        units: UnitSamples,
        metadata: dict[str, list[dict[str, Any]]],
        owner: KoladaSampleServer,
    ) -> None:
        self.index = index
        self.units = units
        self.metadata = metadata
        self.owner = owner
        super().__init__(address, handler)


class _BadRequest(Exception):
    pass


class _KoladaRequestHandler(BaseHTTPRequestHandler):
    server: _SampleHTTPServer
    server_version = "LedaKoladaSamples/1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        fault = self.server.owner.next_fault(self.path)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)
        elif fault is not None and fault.kind in ("429", "500"):
            status = HTTPStatus.TOO_MANY_REQUESTS if fault.kind == "429" else HTTPStatus.INTERNAL_SERVER_ERROR
            headers = {"Retry-After": str(int(fault.seconds))} if fault.kind == "429" else {}
            self._send_json(status, {"error": status.phrase}, headers)
            return
        try:
            items = self._items(url.path, query)
            if items is None:
                self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no route for {url.path}"})
                return
            per_page = _positive_int(query, "per_page", self.server.owner.page_size)
            page = _positive_int(query, "page", 1)
            if per_page > MAX_PER_PAGE:
                raise _BadRequest(f"per_page must be at most {MAX_PER_PAGE}")
        except _BadRequest as exc:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        if fault is not None and fault.kind == "empty_page" and "after_empty" not in query:
            onward = self._page_url(url.path, query, page, per_page) + "&after_empty=1"
            self._send_json(HTTPStatus.OK, {"values": [], "count": 0, "next_url": onward})
            return

        start = (page - 1) * per_page
        values = items[start : start + per_page]
        body: dict[str, Any] = {"values": values, "count": len(values)}
        if page > 1:
            body["previous_url"] = self._page_url(url.path, query, page - 1, per_page)
        if start + per_page < len(items):
            body["next_url"] = self._page_url(url.path, query, page + 1, per_page)
        if fault is not None and fault.kind == "truncated":
            self._send_truncated(body)
            return
        self._send_json(HTTPStatus.OK, body)

    def _items(self, path: str, query: dict[str, list[str]]) -> list[dict[str, Any]] | None:
        """What the route at ``path`` holds, before paging; None for no route."""
        if route := _DATA_ROUTE.match(path):
            kpis = _split(route["kpis"], _KPI_ID, "kpi id")
            municipalities = _split(route["municipalities"], _MUNICIPALITY_ID, "municipality id")
            return list(_lookup(self.server.index, kpis, municipalities, _years(route["years"])))
        if route := _OU_DATA_ROUTE.match(path):
            kpis = _split(route["kpis"], _KPI_ID, "kpi id")
            units = _split(route["units"], _UNIT_ID, "ou id")
            return list(_lookup(self.server.units.data, kpis, units, _years(route["years"])))
        if _OU_ROUTE.match(path):
            return self._units(query)
        for kind, route_pattern, pattern in (
            ("kpi", _KPI_ROUTE, _KPI_ID),
            ("municipality_groups", _GROUPS_ROUTE, _GROUP_ID),
            ("municipality", _MUNICIPALITY_ROUTE, _MUNICIPALITY_ID),
        ):
            if route := route_pattern.match(path):
                listed = self.server.metadata[kind]
                if route["ids"]:
                    wanted = set(_split(route["ids"], pattern, f"{kind} id"))
                    listed = [item for item in listed if item["id"] in wanted]
                if query.get("title"):
                    part = query["title"][-1].casefold()
                    listed = [item for item in listed if part in str(item["title"]).casefold()]
                return listed
        return None

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
        kept = [
            (name, value)
            for name, values in query.items()
            if name not in {"page", "per_page", "after_empty"}
            for value in values
        ]
        return f"http://{host}{path}?{urlencode([*kept, ('page', page), ('per_page', per_page)])}"

    def _send_json(self, status: HTTPStatus, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _send_truncated(self, body: dict[str, Any]) -> None:
        """Half of the body under the whole one's Content-Length, then the connection closes: a body cut short."""
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload[: len(payload) // 2])
        self.wfile.flush()
        self.close_connection = True

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
    if len(items) > ITEMS_PER_LIST:
        raise _BadRequest(f"at most {ITEMS_PER_LIST} values of {what} in one request, got {len(items)}")
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
