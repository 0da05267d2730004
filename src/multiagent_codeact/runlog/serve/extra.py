"""The `web` extra (starlette, uvicorn), checked before the viewer is built."""

from __future__ import annotations

from ...extras import install_hint, require_extra

__all__ = ["INSTALL_HINT", "require_web"]

INSTALL_HINT = install_hint("web")


def require_web() -> None:
    """Raise MissingExtraError naming the install command when starlette or uvicorn is absent."""
    require_extra("web", "the run viewer", {"starlette": "starlette", "uvicorn": "uvicorn"})
