"""Running the viewer: bind the socket first (so a taken port is a clear error and `--port 0`
knows its port before anyone is told the address), then hand it to uvicorn.

Ctrl-C stops the server gracefully: open live streams get two seconds, then are cut.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
import webbrowser
from collections.abc import Callable

from ...errors import ViewerError
from ..store import RunStore
from .extra import require_web
from .hosts import WILDCARDS, allowed_hosts
from .live import LiveOptions

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "bind", "serve", "url_of"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host`:`port` (0: a free port); ViewerError if it cannot be."""
    if not 0 <= port <= 65535:
        raise ViewerError(f"port {port} is not a TCP port: use 1-65535, or 0 for any free one")
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise ViewerError(f"cannot listen on host {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ViewerError(
                f"port {port} on {host} is in use; pick another with --port (0: any free port)"
            ) from None
        raise ViewerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if host in WILDCARDS:
        host = DEFAULT_HOST  # what a browser on this machine can open
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def serve(
    store: RunStore,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    open_browser: bool = False,
    announce: Callable[[str], None] = print,
    live: LiveOptions | None = None,
) -> None:
    """Serve the viewer of `store` until Ctrl-C; `announce` gets the address line first."""
    require_web()
    import uvicorn

    from .app import create_app

    sock = bind(host, port)
    url = url_of(sock)
    app = create_app(store, allowed_hosts=allowed_hosts(host), live=live)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    wide = " (listening on every interface: anyone on the network can read the runs)"
    announce(
        f"serving the runs in {store.root} at {url}"
        f"{wide if host in WILDCARDS else ''} · Ctrl-C stops"
    )
    if open_browser:  # a console browser would block: let it, in its own thread
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    with contextlib.closing(sock), contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])  # re-raises the Ctrl-C it shut down for
