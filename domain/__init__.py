"""The Leda programme as pure Python: no I/O, no clock, no Temporal."""
