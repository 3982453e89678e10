"""uvicorn's h11 protocol with a deadline for each request head: a connection that has not sent a
whole head ``seconds`` after it opened, or after its last response, is closed. uvicorn has no such
timer: its keep-alive timer stops at the first byte and none runs on a new connection, so a client
sending a partial head (or nothing) would hold the connection for ever.

A module of its own so that the class can be named by import path: uvicorn's replicas
(``rag serve --workers N``) receive it pickled by reference."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


class HeadTimeoutH11Protocol(H11Protocol):
    seconds = 10.0  # set from --header-timeout
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request head arrived
            self._disarm()

    def handle_websocket_upgrade(self, event: Any) -> None:
        self._disarm()
        super().handle_websocket_upgrade(event)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.seconds, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def head_timeout_protocol(seconds: float) -> type[HeadTimeoutH11Protocol]:
    """The protocol with its own deadline (one server in this process)."""
    return type("HeadTimeoutH11Protocol", (HeadTimeoutH11Protocol,), {"seconds": seconds})
