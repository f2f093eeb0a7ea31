"""Opening a page in a real headless Chromium through the DevTools protocol: console errors and screenshots.

Chromium comes from the system packages (.ci/run installs it); tests skip, saying so, where it is missing.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-port=0", "--remote-allow-origins=*",
)  # fmt: skip


def chromium_path() -> str | None:
    """The system Chromium, if installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


@dataclass
class PageReport:
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    screenshots: dict[str, bytes] = field(default_factory=dict)
    title: str = ""
    values: dict[str, Any] = field(default_factory=dict)  # each expression asked for, evaluated in the page


async def open_page(
    path: Path, widths: tuple[int, ...] = (1000, 390), *, evaluate: Sequence[str] = ()
) -> PageReport:
    """Load a local file; collect console errors, exceptions and network requests; screenshot at each width;
    evaluate each JavaScript expression of ``evaluate`` in the loaded page (``report.values``)."""
    binary = chromium_path()
    assert binary is not None
    profile = tempfile.mkdtemp(prefix="caucus-chromium-")
    process = await asyncio.create_subprocess_exec(
        binary, *FLAGS, f"--user-data-dir={profile}", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    report = PageReport()
    try:
        assert process.stderr is not None
        port = None
        while port is None:
            line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode(errors="replace")
            if not line:
                raise RuntimeError("chromium exited before DevTools started")
            if m := re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line):
                port = int(m.group(1))
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as resp:
                targets = await resp.json(content_type=None)
            page = next(t for t in targets if t.get("type") == "page")
            async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                await _drive(ws, path, widths, report, evaluate)
    finally:
        process.kill()
        await process.wait()
        shutil.rmtree(profile, ignore_errors=True)
    return report


async def _drive(
    ws: aiohttp.ClientWebSocketResponse,
    path: Path,
    widths: tuple[int, ...],
    report: PageReport,
    evaluate: Sequence[str] = (),
) -> None:
    counter = 0
    pending: dict[int, asyncio.Future[Any]] = {}
    loaded = asyncio.Event()

    async def reader() -> None:
        async for msg in ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in pending:
                pending.pop(data["id"]).set_result(data.get("result", {}))
            method = data.get("method")
            params = data.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                report.errors.append(
                    "console: " + " ".join(str(a.get("value", "")) for a in params.get("args", []))
                )
            elif method == "Runtime.exceptionThrown":
                report.errors.append("exception: " + str(params.get("exceptionDetails", {}).get("text")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                report.errors.append("log: " + str(params["entry"].get("text")))
            elif method == "Network.requestWillBeSent":
                report.requests.append(str(params.get("request", {}).get("url")))
            elif method == "Page.loadEventFired":
                loaded.set()

    async def call(method: str, **params: Any) -> Any:
        nonlocal counter
        counter += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        pending[counter] = future
        await ws.send_json({"id": counter, "method": method, "params": params})
        return await asyncio.wait_for(future, 30)

    task = asyncio.create_task(reader())
    try:
        for domain in ("Runtime", "Log", "Page", "Network"):
            await call(f"{domain}.enable")
        await call("Page.navigate", url=path.resolve().as_uri())
        await asyncio.wait_for(loaded.wait(), 30)
        result = await call("Runtime.evaluate", expression="document.title", returnByValue=True)
        report.title = str(result.get("result", {}).get("value", ""))
        for expression in evaluate:
            result = await call("Runtime.evaluate", expression=expression, returnByValue=True)
            report.values[expression] = result.get("result", {}).get("value")
        for width in widths:
            await call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                       mobile=width < 600)  # fmt: skip
            shot = await call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
            report.screenshots[f"{width}px"] = base64.b64decode(shot["data"])
        await asyncio.sleep(0.2)  # late console messages
    finally:
        task.cancel()
