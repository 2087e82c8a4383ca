"""Finds plugins (entry points, then plugin folders) and keeps what each one failed with; the
one lookup of a block type by slug.

Each entry point and plugin file loads inside its own `try`: a broken plugin is reported by
name with its error (`blocks doctor`, `blocks types`), and the others keep working. A slug is
looked up among the plugins' types first, then among the Block classes defined in this process
(which every Block subclass records here as it is defined).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from core_blocks.errors import BlockTypeNotFound, PluginError, SecretBackendError
from core_blocks.plugin_loading import loading_plugins, plugins_loading
from core_blocks.plugin_permissions import unsafe_plugin_file, unsafe_plugin_folder
from core_blocks.settings import Settings, current

if TYPE_CHECKING:
    from core_blocks.block import Block
    from core_blocks.secrets.base import SecretBackend

ENTRY_POINT_GROUP = "core_blocks"

# Every concrete Block subclass defined in this process, by slug: lets nested documents
# resolve their class without loading plugins.
_defined_types: dict[str, type[Block]] = {}


def define_block_type(cls: type[Block]) -> None:
    """Record a concrete Block class as it is defined (Block.__pydantic_init_subclass__ calls it).

    Raises TypeError when another class holds its slug, except while plugins load: the registry
    judges plugins claiming one slug, and a user class defined first is refused when saved.
    """
    if not plugins_loading():
        _refuse_taken_slug(cls, _defined_types.get(cls._block_type_slug))
    _defined_types[cls._block_type_slug] = cls


def defined_type(slug: str) -> type[Block] | None:
    """The Block class with this slug defined in this process, if any."""
    return _defined_types.get(slug)


def class_path(cls: type) -> str:
    """'module.QualName': how messages name a class."""
    return f"{cls.__module__}.{cls.__qualname__}"


def same_definition(a: type, b: type) -> bool:
    """Whether a and b are one class statement, b perhaps run again (a module reloaded)."""
    return a is b or class_path(a) == class_path(b)


def slug_taken_message(cls: type[Block], owner: type, how: str) -> str:
    """The error for cls claiming the slug of owner, another class."""
    slug = cls._block_type_slug
    return (f"{class_path(cls)} uses block type slug {slug!r}, which {how} "
            f"{class_path(owner)}: saving it would overwrite that type's schema and mix their "
            f"blocks. Give {cls.__qualname__} its own slug: set _block_type_slug = '...' in its "
            "class body.")


def _refuse_taken_slug(cls: type[Block], owner: type[Block] | None) -> None:
    # A user class named like a core one ("Webhook") would otherwise save the core type's
    # secret fields in clear and overwrite its recorded schema.
    if owner is not None and not same_definition(owner, cls):
        raise TypeError(slug_taken_message(cls, owner, "is already taken by"))


def refuse_claimed_slugs(classes: set[type[Block]]) -> None:
    """Refuse a class whose slug a plugin registers for another class: saving it would
    record its schema over the plugin type's, and keep in clear what that type keeps secret.

    The core's own types need no look: the core plugin is consulted first, so the registry
    holds them for their slugs. Any other class builds the registry (once per process).
    """
    from core_blocks.builtins import is_core_block_type

    classes = {cls for cls in classes if not is_core_block_type(cls)}
    if not classes:
        return
    registered = get_registry().block_types
    for cls in classes:
        owner = registered.get(cls._block_type_slug)
        if owner is not None and not same_definition(owner[0], cls):
            raise PluginError(slug_taken_message(
                cls, owner[0], f"plugin {owner[1]!r} registers for"))


@dataclass
class PluginInfo:
    """One plugin: where it came from, and its error if it failed."""

    name: str
    source: str  # "core-blocks-aws 0.3.0" or a file path
    error: str | None = None
    block_types: list[str] = field(default_factory=list)
    secret_backends: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


class Registry:
    """The block types, secret backends and commands that the installed plugins provide.

    Built in two steps, each at most once: loading the plugin modules (cheap: a plugin imports
    its block modules inside its hooks), then calling register_block_types and
    register_secret_backends (`collect`), which imports every block type. `blocks --help` needs
    only the first step and `add_commands`.
    """

    def __init__(self, settings: Settings):
        # pluggy and the hook specs load with the first registry, not with every Block class.
        import pluggy

        from core_blocks import hookspecs

        self.settings = settings
        self.pm = pluggy.PluginManager("core_blocks")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.block_types: dict[str, tuple[type[Block], str]] = {}
        self.secret_backends: dict[str, tuple[type[SecretBackend], str]] = {}
        self.conflicts: dict[str, list[str]] = {}
        self.failed_backends: dict[str, str] = {}  # backend name -> its entry in plugins
        self._collected = False
        self._commands_added = False
        with loading_plugins():  # two plugins claiming one slug is judged in collect
            self._load_entry_points()
            self._load_plugin_files()
            self._check_hooks()

    # -- discovery -------------------------------------------------------------------

    def _load_entry_points(self) -> None:
        from importlib.metadata import entry_points

        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name != "core"):
            dist = getattr(ep, "dist", None)
            source = f"{dist.name} {dist.version}" if dist else ep.value
            info = self.plugins.setdefault(ep.name, PluginInfo(ep.name, source))
            try:
                self.pm.register(ep.load(), name=ep.name)
            except Exception as exc:
                package = dist.name if dist else ep.value.split(".")[0]
                info.error = (f"Plugin {ep.name!r} ({source}) failed to load: {_describe(exc)}. "
                              f"Reinstall it: pip install {package}")

    def _load_plugin_files(self) -> None:
        for folder in self.settings.plugins_dirs:
            paths = self._plugin_paths(folder)
            for path in paths:
                name = f"file:{path.stem}"
                info = self.plugins.setdefault(name, PluginInfo(name, str(path)))
                try:
                    # Files others can change are not run: they would run as this user.
                    problem = unsafe_plugin_file(path, folder)
                except OSError as exc:
                    problem = f"Plugin file {path} cannot be checked: {_describe(exc)}."
                if problem:
                    info.error = problem
                    continue
                try:
                    self.pm.register(import_file(path), name=name)
                except Exception as exc:
                    info.error = (f"Plugin file {path} failed to load: {_describe(exc)}. "
                                  "Fix or remove the file.")

    def _plugin_paths(self, folder: Path) -> list[Path]:
        """The plugin files of folder; none, with a `folder:PATH` error, when it is unsafe."""
        try:
            if not folder.is_dir():
                return []
            problem = unsafe_plugin_folder(folder, self.settings.home)
            paths = sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))
        except OSError as exc:
            problem = (f"Plugin folder {folder} cannot be read: {_describe(exc)}. Give this user "
                       "access to it or remove it from CORE_BLOCKS_PLUGINS_DIRS.")
        if problem:
            name = f"folder:{folder}"
            self.plugins[name] = PluginInfo(name, str(folder), error=problem)
            return []
        return paths

    def _check_hooks(self) -> None:
        """A misspelt hook is that plugin's error; the plugin is dropped, not the registry."""
        import pluggy

        while True:
            try:
                self.pm.check_pending()
                return
            except pluggy.PluginValidationError as exc:
                name = self.pm.get_name(exc.plugin) or str(exc.plugin)
                self.pm.unregister(exc.plugin)
                self.plugins[name].error = f"Plugin {name!r} is invalid: {exc}"

    def _call_each(self, hook_name: str, **kwargs: Any):
        """(plugin name, result) per implementation; a failing one is recorded, not raised."""
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():  # registration order
            try:
                yield impl.plugin_name, impl.function(*[kwargs[a] for a in impl.argnames])
            except Exception as exc:
                info = self.plugins[impl.plugin_name]
                info.error = (f"Plugin {impl.plugin_name!r} ({info.source}) failed in "
                              f"{hook_name}: {_describe(exc)}")

    def collect(self) -> None:
        """Call register_block_types and register_secret_backends (once)."""
        if self._collected:
            return
        with loading_plugins():  # block modules are imported by the hooks
            self._collect()
        self._collected = True  # last: get_registry reads it without the lock

    def _collect(self) -> None:
        for plugin, types_ in self._call_each("register_block_types"):
            for cls in types_ or []:
                slug = cls._block_type_slug
                if slug in self.block_types and self.block_types[slug][1] != plugin:
                    self.conflicts.setdefault(slug, [self.block_types[slug][1]]).append(plugin)
                    continue
                self.block_types[slug] = (cls, plugin)
                self.plugins[plugin].block_types.append(slug)
        for plugin, backends in self._call_each("register_secret_backends"):
            for item in backends or []:
                cls = self._backend_class(plugin, item) if isinstance(item, str) else item
                if cls is None:
                    continue
                if cls.name in self.secret_backends and self.secret_backends[cls.name][1] != plugin:
                    self.conflicts.setdefault(f"secret backend {cls.name}",
                                              [self.secret_backends[cls.name][1]]).append(plugin)
                    continue
                self.secret_backends[cls.name] = (cls, plugin)
                self.plugins[plugin].secret_backends.append(cls.name)

    def add_commands(self, cli: Any, builtins: frozenset[str] = frozenset()) -> list[str]:
        """Let each plugin add its commands to the `blocks` group cli (once per registry).

        A plugin that fails, or that would replace one of the builtins, keeps that as its error
        and adds nothing; the others are unaffected. Returns the errors of this call.
        """
        if self._commands_added:
            return []
        self._commands_added = True
        failed, kwargs = [], {"cli": cli}
        for impl in self.pm.hook.register_commands.get_hookimpls():
            info = self.plugins[impl.plugin_name]
            before = dict(cli.commands)
            try:
                impl.function(*[kwargs[a] for a in impl.argnames])
                taken = sorted(n for n in builtins if cli.commands.get(n) is not before.get(n))
                if taken:
                    raise PluginError(f"it replaces the built-in command(s) {', '.join(taken)}; "
                                      "give its commands other names")
            except Exception as exc:
                cli.commands.clear()
                cli.commands.update(before)  # nothing half-added
                info.error = (f"Plugin {impl.plugin_name!r} ({info.source}) failed in "
                              f"register_commands: {_describe(exc)}")
                failed.append(info.error)
                continue
            info.commands.extend(sorted(set(cli.commands) - set(before)))
        return failed

    def _backend_class(self, plugin: str, spec: str) -> type[SecretBackend] | None:
        """Import a backend given as 'name = module:Class' on its own: if it fails, only that
        backend is missing, recorded as an error of its own ('core:keyring')."""
        name, _, target = (part.strip() for part in spec.partition("="))
        module_name, _, attr = target.partition(":")
        try:
            if not (name and module_name and attr):
                raise ValueError(f"{spec!r} is not 'name = module:Class'")
            cls = getattr(importlib.import_module(module_name), attr)
            if cls.name != name:
                raise ValueError(f"{target} is named {cls.name!r}, not {name!r}")
            return cls
        except Exception as exc:
            source = self.plugins[plugin].source
            self.plugins[f"{plugin}:{name}"] = PluginInfo(
                f"{plugin}:{name}", source,
                error=(f"Secret backend {name!r} of plugin {plugin!r} ({source}) failed to load: "
                       f"{_describe(exc)}. The other backends keep working; choose one with "
                       "CORE_BLOCKS_SECRET_BACKEND, or reinstall the plugin."))
            self.failed_backends[name] = f"{plugin}:{name}"
            return None

    # -- lookups ---------------------------------------------------------------------

    @property
    def errors(self) -> dict[str, str]:
        return {name: info.error for name, info in self.plugins.items() if info.error}

    def block_type(self, slug: str) -> type[Block]:
        """The class registered for slug; raises with close matches when there is none."""
        if slug in self.conflicts:
            raise PluginError(_conflict_message(f"Block type {slug!r}", self.conflicts[slug]))
        if slug in self.block_types:
            return self.block_types[slug][0]
        if slug in _defined_types:
            return _defined_types[slug]
        import difflib  # only a miss pays for it

        known = sorted(self.block_types)
        close = difflib.get_close_matches(slug, known, n=3, cutoff=0.6)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        failed = f" Plugins that failed to load: {', '.join(self.errors)}." if self.errors else ""
        raise BlockTypeNotFound(
            f"Unknown block type {slug!r}.{hint} See all types with: blocks types.{failed}"
        )

    def plugin_of(self, slug: str) -> PluginInfo | None:
        entry = self.block_types.get(slug)
        return self.plugins.get(entry[1]) if entry else None

    def secret_backend_class(self, name: str) -> type[SecretBackend]:
        key = f"secret backend {name}"
        if key in self.conflicts:
            raise PluginError(_conflict_message(f"Secret backend {name!r}", self.conflicts[key]))
        if name not in self.secret_backends and name in self.failed_backends:
            raise SecretBackendError(self.plugins[self.failed_backends[name]].error or name)
        if name not in self.secret_backends:
            known = ", ".join(sorted(self.secret_backends)) or "none"
            raise SecretBackendError(
                f"Unknown secret backend {name!r} (CORE_BLOCKS_SECRET_BACKEND). "
                f"Available: auto, {known}."
            )
        return self.secret_backends[name][0]


def _conflict_message(what: str, plugins: list[str]) -> str:
    names = " and ".join(repr(p) for p in plugins)
    return f"{what} is claimed by plugins {names}. Uninstall or rename one of them."


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class _SourceOnlyLoader(importlib.machinery.SourceFileLoader):
    """Compiles the file itself at each import: never reads or writes `__pycache__`.

    Only the plugin file and its folders are checked (plugin_permissions); a .pyc that
    someone planted in a cache folder they can write would otherwise run in its place.
    The price: compiling each plugin file whenever plugins load (3 to 8 ms for the 5 to 8 KB
    files in plugins/, measured on a busy machine).
    """

    def get_code(self, fullname: str):
        return self.source_to_code(self.get_data(self.path), self.path)


def import_file(path: Path) -> ModuleType:
    """Import a Python file as module `core_blocks_plugins.<stem>` (how plugin files load)."""
    module_name = f"core_blocks_plugins.{path.stem}"
    spec = importlib.util.spec_from_file_location(
        module_name, path, loader=_SourceOnlyLoader(module_name, str(path)))
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pydantic look modules up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


_registries: dict[tuple[int, tuple[Path, ...]], Registry] = {}
_lock = threading.Lock()


def get_registry(settings: Settings | None = None) -> Registry:
    """The registry for the current plugin folders, built once per process, its block types and
    secret backends collected."""
    registry = get_plugins(settings)
    if not registry._collected:
        with _lock:
            registry.collect()
    return registry


def collected_registry(settings: Settings | None = None) -> Registry | None:
    """The registry for these settings if this process has collected it already, else None:
    for callers that can do without building it."""
    settings = settings or current()
    registry = _registries.get((os.getpid(), settings.plugins_dirs))
    return registry if registry is not None and registry._collected else None


def get_plugins(settings: Settings | None = None) -> Registry:
    """The registry with its plugin modules loaded but no hook called yet: what `blocks --help`
    needs to list plugin commands without importing every block type."""
    settings = settings or current()
    key = (os.getpid(), settings.plugins_dirs)
    registry = _registries.get(key)
    if registry is None:
        with _lock:
            registry = _registries.get(key)
            if registry is None:
                registry = _registries[key] = Registry(settings)
    return registry


def reset_registry() -> None:
    """Forget discovered plugins (tests that add plugin files call this)."""
    with _lock:
        _registries.clear()
