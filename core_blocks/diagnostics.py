"""What `blocks doctor` checks: the home, the store, the secret backends, the plugins, leftover
secrets and inline blocks, which distribution provides each integration package, leftover
temporary files and folders, and runs whose process died."""

from __future__ import annotations

import os
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from core_blocks.errors import CoreBlocksError
from core_blocks.settings import Settings, current

# A pending secret younger than this may belong to a save still running in another process.
PENDING_GRACE = timedelta(seconds=60)
# A temporary file whose writer is alive and younger than this may still be in use.
TEMP_GRACE_SECONDS = 60.0
# What an interrupted write of secrets.enc or creation of blocks.db or secrets.db leaves:
# .NAME.PID.….tmp
_TEMP_NAME = re.compile(
    r"^\.(?:secrets\.enc|secrets\.db|blocks\.db)\.(\d+)\.(?:.*\.)?tmp(?:-wal|-shm)?$")

# Each integration's import package and the distribution of this project that provides it.
# Prefect publishes other distributions under the same import names (`prefect-aws` gives
# `prefect_aws` too): one environment cannot hold both, since their files overwrite each other.
INTEGRATION_DISTRIBUTIONS = {
    "prefect_aws": "core-blocks-aws",
    "prefect_dbt": "core-blocks-dbt",
    "prefect_docker": "core-blocks-docker",
    "prefect_slack": "core-blocks-slack",
    "prefect_dask": "core-blocks-dask",
}


@dataclass
class Finding:
    area: str  # home | store | secrets | plugins | packages | documents | runs
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
    """Check everything; with fix=True also remove secrets and inline blocks that no document
    references, make a home other users can read private, remove leftover temporary files and
    folders, and mark runs whose process died as Crashed."""
    settings = settings or current()
    _refuse_unusable_home(settings)
    report = Report()
    store = _check_store(report, settings)
    registry = _check_plugins(report, settings)
    _check_integration_packages(report)
    if registry is not None:
        _check_backends(report, settings, registry, store)
    _check_temp_files(report, settings, fix)
    _check_temp_folders(report, fix)
    if store is not None:
        _check_orphaned_documents(report, store, fix)
        _check_journal(report, store, fix)
        _check_runs(report, store, fix)
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


def _check_backends(report: Report, settings: Settings, registry, store) -> None:
    from core_blocks.secrets.selection import configured_name

    holding: set[str] = set()
    if store is not None:
        try:
            holding = store.secret_backends_in_use()
        except CoreBlocksError:  # the store's own finding says why
            pass

    try:
        chosen = configured_name(settings)
    except CoreBlocksError as exc:
        report.add("secrets", settings.secret_backend, False, str(exc))
        chosen = None
    for name, (cls, _plugin) in sorted(registry.secret_backends.items()):
        reason = cls.diagnose(settings)
        selected = " [selected" + (" by auto" if settings.secret_backend == "auto" else "") + "]"
        mark = selected if name == chosen else ""
        if reason is None:
            report.add("secrets", name, True, f"usable{mark}: {cls.description}")
        else:
            # An unusable backend is a problem when saves go to it or loads come from it.
            report.add("secrets", name, name != chosen and name not in holding,
                       f"not usable{mark}: {reason}")
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
    removed = never_written = 0
    for key, backend_name in leftovers:
        try:
            backend = backend_named(backend_name)
            # A save killed between journalling a key and writing it leaves only the journal
            # row: clear it, but count only secrets that were really there.
            present = backend.read(key, key) is not None
            backend.delete(key)
            store.journal_remove([key])
        except CoreBlocksError as exc:
            report.add("documents", key, False, f"could not remove orphaned secret: {exc}")
            continue
        if present:
            removed += 1
            report.fixed.append(f"removed orphaned secret {key}")
        else:
            never_written += 1
    detail = f"removed {removed}"
    if never_written:
        detail += (f"; cleared {never_written} journal entr{'y' if never_written == 1 else 'ies'}"
                   " of secrets never written")
    report.add("documents", "orphaned secrets", True, detail)


def stale_temp_files(home: Path) -> list[str]:
    """Temporary files of interrupted secret-file writes or store creations in home: those
    whose writer process is gone, or older than TEMP_GRACE_SECONDS."""
    try:
        entries = list(os.scandir(home))
    except (FileNotFoundError, NotADirectoryError):
        return []
    stale, now = [], time.time()
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except FileNotFoundError:
            continue  # its writer just finished with it
        if age > TEMP_GRACE_SECONDS or not _alive(int(match.group(1))):
            stale.append(entry.path)
    return sorted(stale)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or not a pid we can ask about: assume alive
    return True


def _check_temp_files(report: Report, settings: Settings, fix: bool) -> None:
    stale = stale_temp_files(settings.home)
    if not stale:
        report.add("store", "temporary files", True, "none")
        return
    if not fix:
        report.add("store", "temporary files", False,
                   f"{len(stale)} temporary file(s) left by interrupted writes in "
                   f"{settings.home}; remove them with: blocks doctor --fix")
        return
    removed = 0
    for path in stale:
        try:
            os.unlink(path)
        except FileNotFoundError:
            continue  # gone meanwhile: not ours to count
        except OSError as exc:
            report.add("store", path, False,
                       f"could not remove temporary file: {exc.strerror}")
            continue
        removed += 1
        report.fixed.append(f"removed temporary file {path}")
    report.add("store", "temporary files", True, f"removed {removed}")


def _check_temp_folders(report: Report, fix: bool) -> None:
    """Private temporary folders of killed runs: a dbt profiles.yml holds its password."""
    import tempfile

    from core_blocks.temp_folders import leftover_temp_folders

    left = leftover_temp_folders()
    if not left:
        report.add("runs", "temporary folders", True, "none")
        return
    if not fix:
        report.add("runs", "temporary folders", False,
                   f"{len(left)} temporary folder(s) of killed runs in {tempfile.gettempdir()} "
                   f"({', '.join(p.name for p in left[:3])}{', …' if len(left) > 3 else ''}); "
                   "they may hold passwords (a dbt profiles.yml). Remove them with: "
                   "blocks doctor --fix")
        return
    import shutil

    removed = 0
    for folder in left:
        try:
            shutil.rmtree(folder)
        except FileNotFoundError:
            continue
        except OSError as exc:
            report.add("runs", str(folder), False,
                       f"could not remove temporary folder: {exc.strerror}")
            continue
        removed += 1
        report.fixed.append(f"removed temporary folder {folder}")
    report.add("runs", "temporary folders", True, f"removed {removed}")


def _check_orphaned_documents(report: Report, store, fix: bool) -> None:
    """Inline blocks no block references: a save killed before removing the child it replaced
    leaves it, and its secret."""
    try:
        orphans = store.unreferenced_anonymous()
    except CoreBlocksError as exc:
        report.add("documents", "orphaned blocks", False, str(exc))
        return
    if not orphans:
        report.add("documents", "orphaned blocks", True, "none")
        return
    if not fix:
        shown = ", ".join(r.ref for r in orphans[:3]) + (", …" if len(orphans) > 3 else "")
        report.add("documents", "orphaned blocks", False,
                   f"{len(orphans)} inline block(s) that no block references any more ({shown}),"
                   " left by interrupted saves; remove them and their secrets with: "
                   "blocks doctor --fix")
        return
    from core_blocks.documents import delete_if_orphaned

    removed = 0
    for row in orphans:
        try:
            if delete_if_orphaned(store, row.id):
                removed += 1
                report.fixed.append(f"removed orphaned block {row.ref}")
        except CoreBlocksError as exc:
            report.add("documents", row.ref, False, f"could not remove orphaned block: {exc}")
    report.add("documents", "orphaned blocks", True, f"removed {removed}")


def _check_runs(report: Report, store, fix: bool) -> None:
    from core_blocks.runtime.history import crashed_runs, mark_crashed

    try:
        if fix:
            marked = mark_crashed(store)
            report.fixed.extend(f"marked run {run_id} Crashed" for run_id in marked)
            report.add("runs", "crashed runs", True, f"marked {len(marked)} Crashed")
            return
        crashed = crashed_runs(store)
    except CoreBlocksError as exc:
        report.add("runs", "crashed runs", False, str(exc))
        return
    if not crashed:
        report.add("runs", "crashed runs", True, "none")
        return
    names = ", ".join(r["name"] for r in crashed[:5]) + (", …" if len(crashed) > 5 else "")
    report.add("runs", "crashed runs", False,
               f"{len(crashed)} run(s) still Pending, Running or Retrying whose process "
               f"stopped sending heartbeats ({names}); mark them Crashed with: "
               "blocks doctor --fix")


def _check_document_types(report: Report, store, registry) -> None:
    from core_blocks.registry import defined_type

    missing: dict[str, int] = {}
    for row in store.list_documents(include_anonymous=True):
        if row.type_slug not in registry.block_types and defined_type(row.type_slug) is None:
            missing[row.type_slug] = missing.get(row.type_slug, 0) + 1
    for slug, count in sorted(missing.items()):
        report.add("documents", slug, False,
                   f"{count} saved block(s) of type {slug}, which no installed plugin provides; "
                   "install its package or add its plugin file")
