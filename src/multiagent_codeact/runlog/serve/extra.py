"""The `web` extra (starlette, uvicorn): checked before the viewer is built, with one line
that says how to install it, because the core install leaves it out on purpose."""

from __future__ import annotations

import importlib.util

from ...errors import MissingExtraError

__all__ = ["INSTALL_HINT", "require_web"]

INSTALL_HINT = "pip install 'multiagent-codeact[web]'"
_MODULES = ("starlette", "uvicorn")


def require_web() -> None:
    """Raise MissingExtraError naming the install command when starlette or uvicorn is absent."""
    missing = [name for name in _MODULES if _absent(name)]
    if missing:
        raise MissingExtraError(
            f"the run viewer needs {' and '.join(missing)}, which the core install leaves out: "
            f"{INSTALL_HINT}",
            extra="web",
        )


def _absent(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is None
    except (ImportError, ValueError):  # a module set to None in sys.modules, a broken package
        return True
