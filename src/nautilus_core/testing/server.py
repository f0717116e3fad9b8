"""Serving one emulator over HTTP on 127.0.0.1: kmock's server around our handler, and outages.

Owns the network side of one :class:`~nautilus_core.testing.KubeEmulator`: starting kmock's aiohttp
server (``kmock.Server``) on a free port with the emulator's handler, stopping it cleanly (open watch
streams are ended first, so aiohttp's shutdown does not wait for them), and the outage modes: the port
stops listening (``refuse``), connections are cut (``drop``) or left unanswered (``hang``). Runs on the
emulator's event loop; called by ``emulator.py``.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp.web
import kmock

from nautilus_core.testing.handlers import EmulatorHandler

OUTAGE_MODES = ("refuse", "drop", "hang")


class _LocalServer(kmock.Server):
    """kmock's aiohttp server without its process-wide aiohttp DNS interceptor and client session.

    The interceptor patches aiohttp for the whole process and must be exited in LIFO order across all
    servers, which independent emulators (and fleets stopped in any order) cannot promise.
    """

    async def __aenter__(self) -> _LocalServer:
        self._managed_server = self._server_cls(self.handler, host=self._host, port=self._port)
        await self._managed_server.__aenter__()
        self.handler.servers.append(self)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.handler.servers.remove(self)
        assert self._managed_server is not None
        await self._managed_server.__aexit__(*exc)
        self._managed_server = None


class EmulatorServer:
    """The running HTTP side of one emulator (create and use it on the emulator's loop)."""

    def __init__(self, handler: EmulatorHandler, port: int = 0) -> None:
        self.handler = handler
        self._server = _LocalServer(handler, host="127.0.0.1", port=port or None)

    @property
    def port(self) -> int:
        return self._server.port

    async def start(self) -> None:
        self.handler.stopping = asyncio.Event()
        await self.handler.__aenter__()
        await self._server.__aenter__()

    async def stop(self) -> None:
        assert self.handler.stopping is not None
        self.handler.stopping.set()
        self.handler.settings.outage = None
        self.handler.store.close_watches()
        await self._server.__aexit__(None, None, None)
        await self.handler.__aexit__(None, None, None)

    def _runner(self) -> aiohttp.web.BaseRunner:
        runner = self._server.server.runner
        assert runner is not None
        return runner

    async def begin_outage(self, mode: str) -> None:
        if mode not in OUTAGE_MODES:
            raise ValueError(f"mode must be one of {OUTAGE_MODES}, not {mode!r}")
        self.handler.settings.outage = mode
        self.handler.store.close_watches(abort=True)
        if mode == "refuse":
            for site in list(self._runner().sites):
                await site.stop()

    async def end_outage(self) -> None:
        if self.handler.settings.outage == "refuse":
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.port))
            await aiohttp.web.SockSite(self._runner(), sock).start()
        self.handler.settings.outage = None
