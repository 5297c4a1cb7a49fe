"""The tests' network guard, for the test process and for every Python subprocess the tests start.

``tests/conftest.py`` puts this folder first on ``PYTHONPATH``, so Python's ``site`` module imports this file as
``sitecustomize`` at the start of any child process (``python -m egosonics.cli ...``, ``accelerate launch`` and its
ranks): a connection to anything but this machine raises ``NetworkAccessError`` there too, and says so on stderr even
if the code under test catches the exception. The test process itself uses ``install``/``guarded_*`` through the
``no_network`` fixture. Standard library only: this runs before anything else is importable.
"""

from __future__ import annotations

import os
import socket
import sys

ENV_FLAG = "EGOSONICS_TEST_NETWORK_GUARD"
_LOCAL = ("127.", "::1", "localhost", "0.0.0.0")
real_connect = socket.socket.connect
real_connect_ex = socket.socket.connect_ex
real_create_connection = socket.create_connection
_announce = False  # True in a subprocess: say so on stderr too, in case the code under test swallows the error


class NetworkAccessError(RuntimeError):
    """Raised when a test (or a process a test started) tries to reach anything but this machine."""


def is_local(address: object) -> bool:
    if isinstance(address, tuple) and address:
        return str(address[0]).startswith(_LOCAL)
    return isinstance(address, (str, bytes))  # AF_UNIX sockets


def _refuse(address: object) -> NetworkAccessError:
    message = f"test tried to reach the network: {address!r}"
    if _announce:
        print(f"egosonics test network guard (pid {os.getpid()}): {message}", file=sys.stderr, flush=True)
    return NetworkAccessError(message)


def guarded_connect(self: socket.socket, address: object) -> None:
    if not is_local(address):
        raise _refuse(address)
    return real_connect(self, address)


def guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not is_local(address):
        raise _refuse(address)
    return real_connect_ex(self, address)


def guarded_create_connection(address: tuple, *args: object, **kwargs: object) -> socket.socket:
    if not is_local(address):
        raise _refuse(address)
    return real_create_connection(address, *args, **kwargs)


def install() -> None:
    """Guard this process for good (a subprocess has no fixture to undo it)."""
    global _announce
    _announce = True
    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
    socket.create_connection = guarded_create_connection  # type: ignore[assignment]


if os.environ.get(ENV_FLAG) == "subprocess":
    install()
