"""The plugin manager: entry points in the group ``seqgen``, loaded one by one.

A plugin that fails to import or to register is reported as one warning line and skipped, so
every other domain keeps working (as simonw/llm and datasette do).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import pluggy

from seqgen import hookspecs
from seqgen.errors import SeqgenError, closest

if TYPE_CHECKING:
    from seqgen.datasets import Dataset
    from seqgen.domain import Domain, Renderer

#: The plugin API version this seqgen implements. A plugin module may declare
#: ``SEQGEN_PLUGIN_API = N``; a plugin written for a newer API is skipped with a warning.
PLUGIN_API = 1
ENTRY_POINT_GROUP = "seqgen"

_pm: pluggy.PluginManager | None = None
_warned: set[str] = set()


def warn(message: str) -> None:
    """Print one warning line to stderr (once per distinct message)."""
    if message not in _warned:
        _warned.add(message)
        print(f"seqgen: warning: {message}", file=sys.stderr)


def _allowed() -> set[str] | None:
    """Names allowed by SEQGEN_LOAD_PLUGINS (None: all; empty string: none)."""
    value = os.environ.get("SEQGEN_LOAD_PLUGINS")
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def entry_point_names() -> list[str]:
    """Names of installed plugins, without importing them (fast: used for shell completion)."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def get_plugin_manager() -> pluggy.PluginManager:
    """Return the process-wide plugin manager, loading entry-point plugins on first use."""
    global _pm
    if _pm is None:
        pm = pluggy.PluginManager("seqgen")
        pm.add_hookspecs(hookspecs)
        allowed = _allowed()
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if allowed is not None and ep.name not in allowed:
                continue
            try:
                module = ep.load()
                api = getattr(module, "SEQGEN_PLUGIN_API", PLUGIN_API)
                if api > PLUGIN_API:
                    warn(f"plugin {ep.name!r} needs plugin API {api}, this seqgen has "
                         f"{PLUGIN_API}: skipped (upgrade seqgen)")
                    continue
                if pm.get_plugin(ep.name) is None:
                    pm.register(module, name=ep.name)
            except Exception as exc:  # noqa: BLE001 - any plugin bug must not break the others
                warn(f"plugin {ep.name!r} failed to load: {type(exc).__name__}: {exc}")
        _pm = pm
    return _pm


def _call_each(hook_name: str, *args: Any) -> None:
    """Call one hook on every plugin separately, so that one broken plugin is only a warning."""
    pm = get_plugin_manager()
    hook = getattr(pm.hook, hook_name)
    trace = bool(os.environ.get("SEQGEN_TRACE_PLUGINS"))
    for impl in reversed(hook.get_hookimpls()):
        if trace:
            print(f"seqgen: trace: {hook_name} -> plugin {impl.plugin_name!r} "
                  f"({getattr(impl.function, '__module__', '?')})", file=sys.stderr)
        try:
            impl.function(*args)
        except Exception as exc:  # noqa: BLE001
            warn(f"plugin {impl.plugin_name!r} failed in {hook_name}: "
                 f"{type(exc).__name__}: {exc}")


def domains() -> dict[str, type[Domain]]:
    """All registered domains by name."""
    from seqgen.domain import Domain

    found: dict[str, type[Domain]] = {}

    def register(cls: type[Domain]) -> None:
        if not (isinstance(cls, type) and issubclass(cls, Domain)) or not cls.name:
            raise TypeError(f"register() takes a Domain subclass with a name, got {cls!r}")
        found[cls.name] = cls

    _call_each("register_domains", register)
    extra = renderers()
    for name, cls in found.items():
        cls._extra_renderers = dict(extra.get(name, {}))
    return dict(sorted(found.items()))


def renderers() -> dict[str, dict[str, Renderer]]:
    """Renderers that plugins add to other domains: domain name -> suffix -> Renderer."""
    found: dict[str, dict[str, Renderer]] = {}

    def register(domain: str, renderer: Renderer) -> None:
        found.setdefault(domain, {})[renderer.suffix] = renderer

    _call_each("register_renderers", register)
    return found


def datasets() -> dict[str, Dataset]:
    """Named datasets registered by plugins (the built-in catalogue is added by seqgen.datasets)."""
    found: dict[str, Dataset] = {}
    _call_each("register_datasets", lambda ds: found.__setitem__(ds.name, ds))
    return found


def register_commands(cli: Any) -> None:
    """Let plugins add CLI commands."""
    _call_each("register_commands", cli)


def get_domain(name: str) -> type[Domain]:
    """Look a domain up by name; an unknown name is a one-line error suggesting the closest."""
    found = domains()
    if name not in found:
        known = ", ".join(found) or "none installed"
        raise SeqgenError(f"unknown domain {name!r}{closest(name, found)}; installed: {known}")
    return found[name]


def package_of(obj: Callable[..., Any] | type) -> str:
    """The distribution-ish top-level package an object comes from."""
    return (getattr(obj, "__module__", "") or "?").split(".")[0]
