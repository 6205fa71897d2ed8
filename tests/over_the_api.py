"""What the integration tests do over the HTTP API as a client does: wait for a task to open."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


async def open_task(api: httpx.AsyncClient, headers: dict[str, str], workflow_id: str, key: str) -> dict[str, Any]:
    """Wait (in real time, briefly) until the pilot has opened `key`; returns its status entry."""
    for _ in range(200):
        response = await api.get(f"/api/v1/pilots/{workflow_id}/status", headers=headers)
        if response.status_code == 200:
            for task in response.json()["tasks"]:
                if task["key"] == key and task["status"] == "open":
                    return dict(task)
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} never opened in {workflow_id}")
