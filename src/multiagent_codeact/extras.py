"""Optional integrations (`pip install 'multiagent-codeact[EXTRA]'`): checked before any of their
packages is imported, so a missing one is one line that names the install command, because the
core install leaves them out on purpose."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping

from .errors import MissingExtraError

__all__ = ["install_hint", "require_extra"]


def install_hint(extra: str) -> str:
    return f"pip install 'multiagent-codeact[{extra}]'"


def require_extra(extra: str, needed_by: str, modules: Mapping[str, str]) -> None:
    """Raise MissingExtraError when a module of `modules` (module -> its package) is absent.

    `needed_by` begins the message: "the run viewer needs starlette, which ...".
    """
    missing = [package for module, package in modules.items() if _absent(module)]
    if missing:
        raise MissingExtraError(
            f"{needed_by} needs {_and(missing)}, which the core install leaves out: "
            f"{install_hint(extra)}",
            extra=extra,
        )


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _absent(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is None
    except (ImportError, ValueError):  # a module set to None in sys.modules, a broken package
        return True
