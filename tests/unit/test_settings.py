"""Settings that are checked when they are read, so a typo stops a process at start with one line."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from settings import Settings


@pytest.mark.parametrize("address", ["9464", "0.0.0.0", "0.0.0.0:metrics", ":9464", "0.0.0.0:70000"])
def test_a_metrics_address_without_host_and_port_is_refused(address: str) -> None:
    with pytest.raises(ValidationError, match="host:port"):
        Settings(metrics_bind_address=address)


def test_an_empty_metrics_address_serves_no_metrics() -> None:
    assert Settings(metrics_bind_address="").metrics_bind_address is None
    assert Settings(metrics_bind_address="0.0.0.0:9464").metrics_bind_address == "0.0.0.0:9464"
