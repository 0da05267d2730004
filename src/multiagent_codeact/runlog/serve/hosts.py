"""Which Host headers the viewer answers to: the loopback names, plus the host it was bound to.

A page on another site can point a name it owns at 127.0.0.1 (DNS rebinding) and then read
whatever a local server answers; checking the Host header against the names the server was
started for closes that. Bound to every interface, the check is off ("*") and the CLI says so.
"""

from __future__ import annotations

import ipaddress

__all__ = ["LOOPBACK_HOSTS", "WILDCARDS", "allowed_hosts"]

LOOPBACK_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS: tuple[str, ...] = ("0.0.0.0", "::", "")


def allowed_hosts(host: str) -> list[str]:
    """The Host names to answer for a server bound to `host` (["*"] when bound to all)."""
    if host in WILDCARDS:
        return ["*"]
    hosts = list(LOOPBACK_HOSTS)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        name = host.lower()
    else:
        name = f"[{literal}]" if literal.version == 6 else str(literal)
    if name not in hosts:
        hosts.append(name)
    return hosts
