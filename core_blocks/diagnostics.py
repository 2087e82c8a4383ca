"""What `blocks doctor` checks: the store, the secret backends, the plugins, leftover secrets,
and which distribution provides each integration package."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

from core_blocks.errors import CoreBlocksError
from core_blocks.settings import Settings, current

# A pending secret younger than this may belong to a save still running in another process.
PENDING_GRACE = timedelta(seconds=60)

# Each integration's import package and the distribution of this project that provides it.
# Prefect publishes other distributions under the same import names (`prefect-aws` gives
# `prefect_aws` too): one environment cannot hold both, since their files overwrite each other.
INTEGRATION_DISTRIBUTIONS = {
    "prefect_aws": "core-blocks-aws",
    "prefect_dbt": "core-blocks-dbt",
    "prefect_docker": "core-blocks-docker",
    "prefect_slack": "core-blocks-slack",
}


@dataclass
class Finding:
    area: str  # home | store | secrets | plugins | packages | documents
    name: str
    ok: bool
    detail: str


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    def add(self, area: str, name: str, ok: bool, detail: str) -> None:
        self.findings.append(Finding(area, name, ok, detail))

    def as_dict(self) -> dict:
        return {"ok": self.ok, "findings": [asdict(f) for f in self.findings],
                "fixed": self.fixed}


def run_checks(fix: bool = False, settings: Settings | None = None) -> Report:
    """Check everything; with fix=True also remove secrets that no document references and
    make a home other users can read private."""
    settings = settings or current()
    _refuse_unusable_home(settings)
    report = Report()
    store = _check_store(report, settings)
    registry = _check_plugins(report, settings)
    _check_integration_packages(report)
    if registry is not None:
        _check_backends(report, settings, registry)
    if store is not None:
        _check_journal(report, store, fix)
        if registry is not None:
            _check_document_types(report, store, registry)
    check_home_private(report, settings, fix)
    return report


def _refuse_unusable_home(settings: Settings) -> None:
    """An unusable home makes every other check fail: one error naming it, not a table."""
    from core_blocks.settings import check_home

    check_home(settings.home)


def check_home_private(report: Report, settings: Settings, fix: bool) -> None:
    """Other users must not read the home: it holds the store, cached results, the key file.

    A home made by `ensure_home` is 0700; one that existed before (0755, say) is reported,
    and tightened to 0700 with fix=True.
    """
    home = settings.home
    try:
        mode = home.stat().st_mode & 0o777
    except FileNotFoundError:
        report.add("home", str(home), True, "not created yet; it will be made private (0700)")
        return
    except OSError as exc:  # unreadable: another check names it; nothing to say here
        report.add("home", str(home), False, f"cannot be checked ({exc.strerror})")
        return
    if not mode & 0o055:  # no read or search bit for group or others
        report.add("home", str(home), True, f"private (mode {mode:04o})")
        return
    if fix:
        os.chmod(home, mode & 0o700)
        report.fixed.append(f"made {home} private (mode {mode:04o} -> {mode & 0o700:04o})")
        report.add("home", str(home), True, f"private (mode {mode & 0o700:04o})")
        return
    report.add("home", str(home), False,
               f"other users can read it (mode {mode:04o}), and it holds the store, cached task "
               f"results and maybe the secret key file. Make it private: chmod 700 {home} "
               "(or blocks doctor --fix)")


def _check_store(report: Report, settings: Settings):
    from core_blocks.store import describe_url, get_store

    try:
        store = get_store(settings)
        detail = (f"{describe_url(settings.store_url)}: schema v{store.schema_version()}, "
                  f"{store.count_documents()} documents")
        report.add("store", store.dialect.name, True, detail)
        return store
    except CoreBlocksError as exc:
        report.add("store", "store", False, str(exc))
        return None


def _check_plugins(report: Report, settings: Settings):
    from core_blocks.registry import get_registry

    try:
        registry = get_registry(settings)
    except CoreBlocksError as exc:
        report.add("plugins", "registry", False, str(exc))
        return None
    for name, info in sorted(registry.plugins.items()):
        commands = [f"blocks {name}" for name in info.commands]
        provides = ", ".join(info.block_types + info.secret_backends + commands) or "nothing"
        report.add("plugins", name, info.error is None,
                   info.error or f"{info.source}: {provides}")
    for slug, plugins in registry.conflicts.items():
        report.add("plugins", slug, False,
                   f"{slug} is claimed by plugins {' and '.join(plugins)}; uninstall one")
    return registry


def _check_integration_packages(report: Report) -> None:
    """Name the distribution behind each integration package found, without importing it."""
    import importlib.util
    from importlib.metadata import distribution, packages_distributions

    providers = packages_distributions()
    for module, ours in INTEGRATION_DISTRIBUTIONS.items():
        spec = importlib.util.find_spec(module)  # a top-level name: found, not imported
        if spec is None:
            continue
        where = _location(spec)
        names = sorted({_canonical(name) for name in providers.get(module, [])})
        foreign = [name for name in names if name != ours]
        if foreign:
            found = ", ".join(f"{name} {distribution(name).version}" for name in foreign)
            # Uninstalling the other one deletes the files both wrote: reinstall ours over it.
            reinstall = ("pip install --force-reinstall --no-deps" if ours in names
                         else "pip install")
            report.add("packages", module, False,
                       f"{module} is provided by {found}, not {ours}; one environment cannot "
                       f"hold both. Replace it: pip uninstall {' '.join(foreign)} && "
                       f"{reinstall} {ours}")
        elif names:
            report.add("packages", module, True,
                       f"{ours} {distribution(ours).version} ({where})")
        else:
            report.add("packages", module, True,
                       f"{where}: on the path, not from an installed distribution")


def _canonical(name: str) -> str:
    """A distribution name as the index compares them: `Prefect_AWS` is `prefect-aws`."""
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def _location(spec) -> str:
    if spec.submodule_search_locations:
        return str(list(spec.submodule_search_locations)[0])
    return str(spec.origin)


def _check_backends(report: Report, settings: Settings, registry) -> None:
    from core_blocks.secrets.selection import configured_name

    try:
        chosen = configured_name(settings)
    except CoreBlocksError as exc:
        report.add("secrets", settings.secret_backend, False, str(exc))
        chosen = None
    for name, (cls, _plugin) in sorted(registry.secret_backends.items()):
        reason = cls.unusable_reason(settings)
        selected = " [selected" + (" by auto" if settings.secret_backend == "auto" else "") + "]"
        mark = selected if name == chosen else ""
        if reason is None:
            report.add("secrets", name, True, f"usable{mark}: {cls.description}")
        else:
            # An unusable backend is only a problem when it is the one in use.
            report.add("secrets", name, name != chosen, f"not usable{mark}: {reason}")
    if chosen and chosen not in registry.secret_backends:
        report.add("secrets", chosen, False,
                   f"CORE_BLOCKS_SECRET_BACKEND={chosen} names no registered backend")


def _check_journal(report: Report, store, fix: bool) -> None:
    from core_blocks.secrets.selection import backend_named

    now = datetime.now(timezone.utc)
    leftovers = []
    for key, backend, state, created in store.journal():
        if state == "pending" and now - datetime.fromisoformat(created) < PENDING_GRACE:
            continue
        if store.secret_key_in_use(key):
            store.journal_remove([key])  # the save did finish; only the journal row lagged
            continue
        leftovers.append((key, backend))
    if not leftovers:
        report.add("documents", "orphaned secrets", True, "none")
        return
    if not fix:
        report.add("documents", "orphaned secrets", False,
                   f"{len(leftovers)} secret(s) left by interrupted saves or deletes; "
                   "remove them with: blocks doctor --fix")
        return
    for key, backend in leftovers:
        try:
            backend_named(backend).delete(key)
            store.journal_remove([key])
            report.fixed.append(f"removed orphaned secret {key}")
        except CoreBlocksError as exc:
            report.add("documents", key, False, f"could not remove orphaned secret: {exc}")
    report.add("documents", "orphaned secrets", True, f"removed {len(report.fixed)}")


def _check_document_types(report: Report, store, registry) -> None:
    from core_blocks.block import defined_type

    missing: dict[str, int] = {}
    for row in store.list_documents(include_anonymous=True):
        if row.type_slug not in registry.block_types and defined_type(row.type_slug) is None:
            missing[row.type_slug] = missing.get(row.type_slug, 0) + 1
    for slug, count in sorted(missing.items()):
        report.add("documents", slug, False,
                   f"{count} saved block(s) of type {slug}, which no installed plugin provides; "
                   "install its package or add its plugin file")
