"""The plugin manager: entry points in the group ``seqgen``, loaded one by one, and the
registry that the hooks fill.

Hooks are called through pluggy (``pm.hook.<name>(register=...)``, by keyword, so an
implementation may take a subset of the arguments), and each kind of thing is collected once
into the ``Registry``: domains, renderers keyed by (domain, suffix), datasets and output heads.
A plugin that fails to import or raises inside a hook is reported as one warning line and left
out of that hook, so every other domain keeps working (as simonw/llm and datasette do).
``SEQGEN_TRACE_PLUGINS=1`` traces hook calls with pluggy's own hook-call monitoring.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import pluggy

from seqgen import builtin_plugin, hookspecs
from seqgen.errors import SeqgenError, closest

if TYPE_CHECKING:
    from seqgen.datasets import Dataset
    from seqgen.domain import Domain, Renderer
    from seqgen.engine.heads import Head

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


class _WarnHandler(logging.Handler):
    """The engine logs its warnings (it imports nothing above it); they print as ours do."""

    def emit(self, record: logging.LogRecord) -> None:
        warn(record.getMessage())


_engine_log = logging.getLogger("seqgen.engine")
if not any(isinstance(h, _WarnHandler) for h in _engine_log.handlers):
    _engine_log.addHandler(_WarnHandler(logging.WARNING))
    _engine_log.propagate = False


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
        pm.register(builtin_plugin, name="seqgen")  # seqgen's own heads and datasets, as a plugin
        allowed = _allowed()
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if allowed is None or ep.name in allowed:
                _load(pm, ep)
        if os.environ.get("SEQGEN_TRACE_PLUGINS"):
            pm.add_hookcall_monitoring(_trace_before, lambda *args: None)
        _pm = pm
    return _pm


def _load(pm: pluggy.PluginManager, ep: Any) -> None:
    try:
        module = ep.load()
        api = getattr(module, "SEQGEN_PLUGIN_API", PLUGIN_API)
        if api > PLUGIN_API:
            warn(f"plugin {ep.name!r} needs plugin API {api}, this seqgen has {PLUGIN_API}: "
                 f"skipped (upgrade seqgen)")
        elif pm.get_plugin(ep.name) is None:
            pm.register(module, name=ep.name)
    except Exception as exc:  # noqa: BLE001 - any plugin bug must not break the others
        warn(f"plugin {ep.name!r} failed to load: {type(exc).__name__}: {exc}")


def _trace_before(hook_name: str, impls: Sequence[pluggy.HookImpl],
                  kwargs: Mapping[str, Any]) -> None:
    for impl in impls:
        print(f"seqgen: trace: {hook_name} -> plugin {impl.plugin_name!r} "
              f"({getattr(impl.function, '__module__', '?')})", file=sys.stderr)


def call_hook(hook_name: str, make: Callable[[], tuple[dict[str, Any], Any]]) -> Any:
    """Call a hook through pluggy with the keyword arguments ``make()`` returns, and return
    what ``make`` collects into. A plugin that raises is warned about once and the hook is
    called again without it, from a fresh ``make()``, so no half of its work is kept."""
    pm = get_plugin_manager()
    skipped: list[object] = []
    while True:
        kwargs, result = make()
        caller = pm.subset_hook_caller(hook_name, skipped) if skipped else \
            getattr(pm.hook, hook_name)
        try:
            caller(**kwargs)
            return result
        except Exception as exc:  # noqa: BLE001 - one broken plugin is only a warning
            impl = _raising_impl(exc, caller.get_hookimpls())
            if impl is None:
                raise
            where = "" if isinstance(exc, SeqgenError) else f" ({_plugin_line(exc, impl)})"
            warn(f"plugin {impl.plugin_name!r} failed in {hook_name}: "
                 f"{type(exc).__name__}: {exc}{where}")
            skipped.append(impl.plugin)


def _plugin_line(exc: BaseException, impl: pluggy.HookImpl) -> str:
    """``pkg/module.py:LINE``: the innermost frame of the exception in the plugin's own
    package or module (a bug in it, not in what it called), else the hook's own frame."""
    import os

    module = getattr(impl.function, "__module__", "") or ""
    top = sys.modules.get(module.split(".")[0])
    own = getattr(top, "__file__", None) or ""
    if own and hasattr(top, "__path__"):  # a package: any file under its folder
        own = os.path.dirname(own)
    found = ""
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if own and (name == own or name.startswith(own + os.sep)) or \
                tb.tb_frame.f_code is getattr(impl.function, "__code__", None):
            found = f"{os.path.relpath(name, os.path.dirname(own)) if own else name}:" \
                    f"{tb.tb_lineno}"
        tb = tb.tb_next
    return found or "?"


def _raising_impl(exc: BaseException, impls: list[pluggy.HookImpl]) -> pluggy.HookImpl | None:
    """The implementation whose frame the exception passed through (its traceback)."""
    by_code = {getattr(i.function, "__code__", None): i for i in impls}
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code in by_code:
            return by_code[tb.tb_frame.f_code]
        tb = tb.tb_next
    return None


@dataclass
class Registry:
    """What the plugins registered, each kind collected on first use and then kept."""

    key: tuple[tuple[str, int], ...]
    parts: dict[str, Any] = field(default_factory=dict)

    def get(self, kind: str, collect: Callable[[], Any]) -> Any:
        if kind not in self.parts:
            self.parts[kind] = collect()
        return self.parts[kind]


_registry: Registry | None = None


def registry() -> Registry:
    """The registry of the plugins registered now (rebuilt when one is added or removed)."""
    global _registry
    key = tuple((name, id(p)) for name, p in get_plugin_manager().list_name_plugin())
    if _registry is None or _registry.key != key:
        _registry = Registry(key)
    return _registry


def _domains() -> tuple[dict[str, Any], dict[str, type[Domain]]]:
    from seqgen.domain import check_domain_class

    found: dict[str, type[Domain]] = {}

    def register(cls: type[Domain]) -> None:
        check_domain_class(cls)  # an incomplete domain: one line naming what it lacks
        found.setdefault(cls.name, cls)  # pluggy calls the newest plugin first: it wins
    return {"register": register}, found


def domains() -> dict[str, type[Domain]]:
    """All registered domains by name."""
    found = registry().get("domains", lambda: call_hook("register_domains", _domains))
    return dict(sorted(found.items()))


def _renderers() -> tuple[dict[str, Any], dict[tuple[str, str], Renderer]]:
    found: dict[tuple[str, str], Renderer] = {}
    return {"register": lambda d, r: found.setdefault((d, r.suffix), r)}, found


def renderers() -> dict[tuple[str, str], Renderer]:
    """Renderers that plugins add to domains, by (domain name, suffix)."""
    return dict(registry().get("renderers", lambda: call_hook("register_renderers", _renderers)))


def renderers_of(domain: Domain) -> dict[str, Renderer]:
    """A domain's own renderers and those other plugins add to it (theirs win a suffix)."""
    extra = {s: r for (d, s), r in renderers().items() if d == domain.name}
    return {**domain.renderers(), **extra}


def datasets() -> dict[str, Dataset]:
    """Named datasets: seqgen's catalogue (data/catalogue.toml) and those plugins register."""
    def make() -> tuple[dict[str, Any], dict[str, Dataset]]:
        found: dict[str, Dataset] = {}
        return {"register": lambda ds: found.setdefault(ds.name, ds)}, found
    return dict(registry().get("datasets", lambda: call_hook("register_datasets", make)))


def find_dataset(name: str, domain: str) -> Dataset | None:
    """The dataset of that name for that domain, or None."""
    ds = datasets().get(name)
    return ds if ds is not None and ds.domain == domain else None


def heads() -> dict[str, type[Head]]:
    """Output heads by name: the engine's and those plugins register (``register_heads``)."""
    def make() -> tuple[dict[str, Any], dict[str, type[Head]]]:
        found: dict[str, type[Head]] = {}
        return {"register": lambda name, cls: found.setdefault(name, cls)}, found
    return dict(registry().get("heads", lambda: call_hook("register_heads", make)))


def register_commands(cli: Any) -> None:
    """Let plugins add CLI commands."""
    call_hook("register_commands", lambda: ({"cli": cli}, None))


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
