"""The `otel` extra (opentelemetry-sdk, the OTLP/HTTP exporter), checked before anything of
OpenTelemetry is imported."""

from __future__ import annotations

from ..extras import install_hint, require_extra

__all__ = ["INSTALL_HINT", "require_otel"]

INSTALL_HINT = install_hint("otel")
_MODULES = {
    "opentelemetry.sdk": "opentelemetry-sdk",
    "opentelemetry.exporter.otlp.proto.http": "opentelemetry-exporter-otlp-proto-http",
    "opentelemetry.proto": "opentelemetry-proto",
}


def require_otel() -> None:
    """Raise MissingExtraError naming the install command when a package of the extra is absent."""
    require_extra("otel", "OpenTelemetry export", _MODULES)
