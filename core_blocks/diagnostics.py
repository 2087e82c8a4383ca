"""What `blocks doctor` checks: the store, the secret backends, the plugins, leftover secrets."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

from core_blocks.errors import CoreBlocksError
from core_blocks.settings import Settings, current

# A pending secret younger than this may belong to a save still running in another process.
PENDING_GRACE = timedelta(seconds=60)


@dataclass
class Finding:
    area: str  # home | store | secrets | plugins | documents
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
    report = Report()
    store = _check_store(report, settings)
    registry = _check_plugins(report, settings)
    if registry is not None:
        _check_backends(report, settings, registry)
    if store is not None:
        _check_journal(report, store, fix)
        if registry is not None:
            _check_document_types(report, store, registry)
    check_home_private(report, settings, fix)
    return report


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
        provides = ", ".join(info.block_types + info.secret_backends) or "nothing"
        report.add("plugins", name, info.error is None,
                   info.error or f"{info.source}: {provides}")
    for slug, plugins in registry.conflicts.items():
        report.add("plugins", slug, False,
                   f"{slug} is claimed by plugins {' and '.join(plugins)}; uninstall one")
    return registry


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
