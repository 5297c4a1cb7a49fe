"""The network guard holds in the test process and in every Python subprocess a test starts (the CLI, ranks)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import NETGUARD_DIR, REPO, NetworkAccessError

TEST_NET = ("192.0.2.1", 9)  # TEST-NET-1 (RFC 5737): never a real host


def python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with the environment the tests give every subprocess."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=REPO,
                          timeout=60)


def test_the_test_process_cannot_connect_out() -> None:
    with pytest.raises(NetworkAccessError, match=r"192\.0\.2\.1"):
        socket.create_connection(TEST_NET, timeout=1)
    with socket.socket() as sock, pytest.raises(NetworkAccessError):
        sock.connect(TEST_NET)
    with socket.socket() as sock, pytest.raises(NetworkAccessError):
        sock.connect_ex(TEST_NET)


def test_subprocesses_get_the_guard_on_their_path() -> None:
    assert os.environ["PYTHONPATH"].split(os.pathsep)[0] == str(NETGUARD_DIR)
    result = python("import sitecustomize, socket; print(sitecustomize.__file__); print(socket.create_connection)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == str(NETGUARD_DIR / "sitecustomize.py")
    assert "guarded_create_connection" in result.stdout.splitlines()[1]


@pytest.mark.parametrize("call", ["socket.create_connection(ADDRESS, timeout=2)",
                                  "socket.socket().connect(ADDRESS)",
                                  "socket.socket().connect_ex(ADDRESS)",
                                  "__import__('urllib.request').request.urlopen('http://192.0.2.1:9/', timeout=2)"])
def test_a_subprocess_that_connects_out_fails(call: str) -> None:
    result = python(f"import socket\nADDRESS = {TEST_NET!r}\n{call}\nprint('connected')")
    assert result.returncode != 0 and "connected" not in result.stdout, result.stdout
    assert "NetworkAccessError: test tried to reach the network" in result.stderr, result.stderr[-2000:]


def test_a_subprocess_that_swallows_the_error_is_still_reported() -> None:
    result = python(f"""
        import socket
        try:
            socket.create_connection({TEST_NET!r}, timeout=2)
        except Exception:
            pass  # the code under test hides it
        """)
    assert result.returncode == 0
    assert "egosonics test network guard" in result.stderr and "192.0.2.1" in result.stderr, result.stderr


def test_a_subprocess_may_still_talk_to_this_machine() -> None:
    result = python("""
        import socket
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client = socket.create_connection(server.getsockname(), timeout=5)
        peer, _ = server.accept()
        client.sendall(b"ping")
        print(peer.recv(4).decode())
        """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ping"


def test_the_cli_runs_guarded() -> None:
    """``python -m egosonics.cli`` (as the tests start it) has the guard installed before egosonics is imported."""
    result = python("""
        import socket, runpy, sys
        sys.argv = ["egosonics", "--help"]
        try:
            runpy.run_module("egosonics.cli", run_name="__main__")
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        print(socket.socket.connect.__name__)
        """)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == "guarded_connect"
