"""The custom search attributes Leda keeps current on every pilot (never personal data)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

PROGRAMME = SearchAttributeKey.for_keyword("LedaProgramme")
MUNICIPALITY = SearchAttributeKey.for_keyword("LedaMunicipality")
PHASE = SearchAttributeKey.for_keyword("LedaPhase")

ALL = (PROGRAMME, MUNICIPALITY, PHASE)
"""Registered by the embedded stack, the tests and compose before any workflow runs."""
