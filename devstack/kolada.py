"""A stand-in for Kolada's v2 data API, serving the synthetic sample files in ``kolada_synthetic/``.

The dev stack and the tests have no internet, yet the Kolada client should meet the real thing's shape:
the same route, the same envelope, paging through ``next_page``, JSON errors with 400 and 404. The numbers
served are invented (see ``kolada_synthetic/README.md``), never Kolada values.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable
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
_KPI_ID = re.compile(r"^[A-Z]\d{5}$")
_MUNICIPALITY_ID = re.compile(r"^\d{4}$")
_YEAR = re.compile(r"^\d{4}$")


class KoladaSampleServer:
    """HTTP server on ``host:port`` (0 picks a free port) answering the Kolada v2 data route from samples.

    Supports ``GET /v2/data/kpi/{kpi[,kpi]}/municipality/{id[,id]}/year/{year[,year]}`` with the
    ``per_page`` and ``page`` query parameters. Every other path answers 404, malformed ids or years 400.
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
        try:
            server = _SampleHTTPServer((self._host, self._requested_port), _KoladaRequestHandler, index)
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


def load_samples(samples_dir: Path) -> dict[_SampleKey, dict[str, Any]]:
    """Index the Kolada data objects of every ``synthetic_*.json`` in ``samples_dir``."""
    files = sorted(samples_dir.glob("synthetic_*.json"))
    if not files:
        raise FileNotFoundError(f"no synthetic_*.json Kolada sample files in {samples_dir}")
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


class _SampleHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        index: dict[_SampleKey, dict[str, Any]],
    ) -> None:
        self.index = index
        super().__init__(address, handler)


class _BadRequest(Exception):
    pass


class _KoladaRequestHandler(BaseHTTPRequestHandler):
    server: _SampleHTTPServer
    server_version = "LedaKoladaSamples/1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        route = _DATA_ROUTE.match(url.path)
        if route is None:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no route for {url.path}"})
            return
        try:
            kpis = _split(route["kpis"], _KPI_ID, "kpi id")
            municipalities = _split(route["municipalities"], _MUNICIPALITY_ID, "municipality id")
            years = [int(year) for year in _split(route["years"], _YEAR, "year")]
            query = parse_qs(url.query)
            per_page = _positive_int(query, "per_page", MAX_PER_PAGE)
            page = _positive_int(query, "page", 1)
            if per_page > MAX_PER_PAGE:
                raise _BadRequest(f"per_page must be at most {MAX_PER_PAGE}")
        except _BadRequest as exc:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return

        matching = list(self._matching(kpis, municipalities, years))
        start = (page - 1) * per_page
        values = matching[start : start + per_page]
        body: dict[str, Any] = {"values": values, "count": len(values)}
        if page > 1:
            body["previous_page"] = self._page_url(url.path, page - 1, per_page)
        if start + per_page < len(matching):
            body["next_page"] = self._page_url(url.path, page + 1, per_page)
        self._send_json(HTTPStatus.OK, body)

    def _matching(self, kpis: list[str], municipalities: list[str], years: list[int]) -> Iterable[dict[str, Any]]:
        index = self.server.index
        for kpi in dict.fromkeys(kpis):
            for municipality in dict.fromkeys(municipalities):
                for year in sorted(set(years)):
                    data_object = index.get((kpi, municipality, year))
                    if data_object is not None:
                        yield data_object

    def _page_url(self, path: str, page: int, per_page: int) -> str:
        # Kolada returns full URLs; build them from the Host the client used so they lead back here.
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return f"http://{host}{path}?{urlencode({'page': page, 'per_page': per_page})}"

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
