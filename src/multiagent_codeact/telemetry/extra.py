"""The `otel` extra (opentelemetry-sdk, the OTLP/HTTP exporter): checked before anything of
OpenTelemetry is imported, with one line that says how to install it, because the core install
leaves it out on purpose."""

from __future__ import annotations

import importlib.util

from ..errors import MissingExtraError

__all__ = ["INSTALL_HINT", "require_otel"]

INSTALL_HINT = "pip install 'multiagent-codeact[otel]'"
_MODULES = {
    "opentelemetry.sdk": "opentelemetry-sdk",
    "opentelemetry.exporter.otlp.proto.http": "opentelemetry-exporter-otlp-proto-http",
    "opentelemetry.proto": "opentelemetry-proto",
}


def require_otel() -> None:
    """Raise MissingExtraError naming the install command when a package of the extra is absent."""
    missing = [package for module, package in _MODULES.items() if _absent(module)]
    if missing:
        raise MissingExtraError(
            f"OpenTelemetry export needs {', '.join(missing)}, which the core install leaves "
            f"out: {INSTALL_HINT}",
            extra="otel",
        )


def _absent(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is None
    except (ImportError, ValueError):  # a module set to None in sys.modules, a broken package
        return True
