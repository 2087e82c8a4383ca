"""Node caching for PER_NODE builds: a node whose file, config, macros and upstream nodes are
unchanged since a successful run is not run again; its stored result is served as "cached".

A node's key is a hash of what decides its output (its SQL or CSV file, its config, the files
of the macros it calls, its relation, full_refresh) and of its upstream nodes' keys, so an
edit anywhere upstream changes every key below it. The keys are computed from the manifest
and the files alone, before anything runs (`_precompute_all_cache_keys`), so a node selected
without its parents still gets one. The execution state (`.execution_state.json` in the key
storage) remembers the key each node had when it last ran; an unselected parent whose
remembered key differs from its current one has not been rebuilt since its file changed, and
its key is salted so the child's result is kept apart from a full build's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect_dbt.core._manifest import DbtNode

logger = logging.getLogger(__name__)

_EXECUTION_STATE_KEY = ".execution_state.json"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hash_values(*values: Any) -> str:
    """A stable hash of JSON-able values (anything else by its repr)."""
    return _digest(json.dumps(values, sort_keys=True, default=repr).encode())


@dataclasses.dataclass(frozen=True)
class DbtNodeCachePolicy:
    """The cache key of one dbt node, from hashes taken when it was built: plain strings
    and tuples, so it pickles and holds neither the manifest nor file handles.

    `key_storage` is where the key's records go (see `configure`); it is not part of the key.

        DbtNodeCachePolicy(node_unique_id="model.shop.orders", file_content_hash="ab12")
    """

    node_unique_id: str = ""
    file_content_hash: str | None = None
    config_hash: str | None = None
    full_refresh: bool = False
    upstream_cache_keys: tuple[tuple[str, str], ...] = ()
    macro_content_hash: str | None = None
    relation_name: str | None = None
    key_storage: Any = dataclasses.field(default=None, compare=False)

    def compute_key(self, task_ctx: Any = None, inputs: Any = None,
                    flow_parameters: Any = None, **kwargs: Any) -> str:
        """The node's cache key; the task context and inputs do not change it."""
        return _hash_values(self.node_unique_id, self.file_content_hash, self.config_hash,
                            self.full_refresh, [list(p) for p in self.upstream_cache_keys],
                            self.macro_content_hash, self.relation_name)

    def __call__(self, context: Any, parameters: dict[str, Any]) -> str:
        """The key as a task's `cache_key_fn`."""
        return self.compute_key(context, parameters, None)

    def configure(self, key_storage: Any = None, **_ignored: Any) -> DbtNodeCachePolicy:
        """A copy that keeps its key records in `key_storage`."""
        return dataclasses.replace(self, key_storage=key_storage)


def _hash_node_file(node: DbtNode, project_dir: Path) -> str | None:
    """The hash of the node's file (SQL, or CSV for a seed); None when it has none or it
    cannot be read (then edits to it do not change the key: a warning says so)."""
    if not node.original_file_path:
        return None
    path = Path(project_dir) / node.original_file_path
    try:
        return _digest(path.read_bytes())
    except OSError as exc:
        logger.warning("Cannot read %s's file %s (%s); its cache key will not follow "
                       "changes to that file.", node.unique_id, path, exc.strerror or exc)
        return None


def _hash_node_config(node: DbtNode) -> str | None:
    """The hash of the node's config; None for an empty one."""
    return _hash_values(node.config) if node.config else None


def _hash_macro_dependencies(node: DbtNode, project_dir: Path,
                             macro_paths: dict[str, str | None]) -> str | None:
    """The hash of the macros the node calls: each macro's file, or its id when it has no
    readable file (dbt's own and packages' macros); None when it calls none."""
    if not node.depends_on_macros:
        return None
    parts = []
    for macro_id in sorted(node.depends_on_macros):
        relative = macro_paths.get(macro_id)
        try:
            parts.append(_digest((Path(project_dir) / relative).read_bytes()) if relative
                         else macro_id)
        except OSError:
            parts.append(macro_id)
    return _digest("|".join(parts).encode())


def build_cache_policy_for_node(node: DbtNode, project_dir: Path, full_refresh: bool,
                                upstream_cache_keys: dict[str, str],
                                key_storage: Any = None,
                                macro_paths: dict[str, str | None] | None = None,
                                ) -> DbtNodeCachePolicy:
    """The cache policy of `node`: its file, config and macros hashed now, its upstream keys
    sorted so their order does not matter.

        policy = build_cache_policy_for_node(node, Path("shop"), False, {})
        policy.compute_key()
    """
    policy = DbtNodeCachePolicy(
        node_unique_id=node.unique_id,
        file_content_hash=_hash_node_file(node, project_dir),
        config_hash=_hash_node_config(node),
        full_refresh=full_refresh,
        upstream_cache_keys=tuple(sorted(upstream_cache_keys.items())),
        macro_content_hash=_hash_macro_dependencies(node, project_dir, macro_paths or {}),
        relation_name=node.relation_name,
    )
    return policy if key_storage is None else policy.configure(key_storage=key_storage)


def _local_storage(path: Path | str) -> Any:
    from core_blocks import LocalFileSystem

    return LocalFileSystem(basepath=str(path))


def _resolved(value: Any) -> Any:
    """A storage call's value: awaited in a thread of its own when the storage is async."""
    if not inspect.isawaitable(value):
        return value
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    async def wait() -> Any:
        return await value

    with ThreadPoolExecutor(1) as pool:  # this thread may be running an event loop already
        return pool.submit(asyncio.run, wait()).result()


class NodeCacheMixin:
    """The orchestrator's node cache: each node's task options, every node's key ahead of
    the run, and the execution state kept in the cache's key storage.

    Reads the orchestrator's `_cache` (a CacheConfig or None) and `_settings.project_dir`.
    """

    _EXECUTION_STATE_KEY = _EXECUTION_STATE_KEY

    @staticmethod
    def _is_block_slug(value: str) -> bool:
        """True for a saved block's "type/name" (one slash), not a folder path."""
        return len(value.split("/")) == 2

    def _resolve_storage(self) -> tuple[Path | None, Any]:
        """Where the execution state lives: (folder, None), (None, block) or (None, None).

        The cache's key_storage, else its result_storage (the keys' records sit with the
        results unless told otherwise); a "type/name" string is a saved block.
        """
        cache = self._cache
        storage = None if cache is None else (
            cache.key_storage if cache.key_storage is not None else cache.result_storage)
        if storage is None:
            return None, None
        if isinstance(storage, Path):
            return storage, None
        if isinstance(storage, str):
            if self._is_block_slug(storage):
                from core_blocks.block import Block

                return None, Block.load(storage)
            return Path(storage), None
        return None, storage

    def _load_execution_state(self) -> dict[str, str]:
        """{node id: the key it had at its last successful run}; empty when none is kept."""
        try:
            folder, block = self._resolve_storage()
            if folder is not None:
                return json.loads((folder / _EXECUTION_STATE_KEY).read_text())
            if block is not None:
                return json.loads(_resolved(block.read_path(_EXECUTION_STATE_KEY)))
        except Exception as exc:  # none yet, or unreadable: every parent counts as not rebuilt
            logger.debug("No execution state loaded: %s", exc)
        return {}

    def _save_execution_state(self, state: dict[str, str]) -> None:
        """Keep the execution state for the next run (a failure to is logged, not raised:
        the next run then treats unselected parents as not rebuilt)."""
        content = json.dumps(state, sort_keys=True).encode()
        try:
            folder, block = self._resolve_storage()
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                from prefect_dbt.core._artifacts import write_whole

                write_whole(folder / _EXECUTION_STATE_KEY, content)
            elif block is not None:
                _resolved(block.write_path(_EXECUTION_STATE_KEY, content))
        except Exception as exc:
            logger.warning("Could not save the dbt node cache's execution state: %s", exc)

    def _result_storage_for_tasks(self) -> Any:
        """The node tasks' result_storage: the cache's result_storage (else key_storage) as
        our runtime takes it: a folder becomes a LocalFileSystem, a "type/name" slug and an
        object storage block stay; None (the runtime's default) for anything else."""
        from core_blocks import ObjectStorageBlock

        cache = self._cache
        for storage in (cache.result_storage, cache.key_storage) if cache else ():
            if isinstance(storage, Path):
                return _local_storage(storage)
            if isinstance(storage, str):
                return storage if self._is_block_slug(storage) else _local_storage(storage)
            if isinstance(storage, ObjectStorageBlock):
                return storage
        return None

    def _build_cache_options_for_node(self, node, full_refresh, computed_cache_keys,
                                      macro_paths=None, freshness_results=None,
                                      all_nodes=None, precomputed_cache_keys=None,
                                      execution_state=None, all_executable_nodes=None):
        """The node task's cache options (cache_key_fn, expiration, storage…), and its key
        recorded in `computed_cache_keys` for the nodes below it. Empty (run uncached) when
        a parent has no key.

        Parents come from the manifest's own edges (`all_executable_nodes`), not from edges
        added for scheduling (a model waiting on its parent's tests). A parent not run in
        this build takes its precomputed key, salted with ":unexecuted" unless the execution
        state shows it ran with that key.
        """
        precomputed = precomputed_cache_keys or {}
        state = execution_state or {}
        canonical = (all_executable_nodes or {}).get(node.unique_id)
        depends_on = (canonical or node).depends_on
        upstream: dict[str, str] = {}
        for parent in depends_on:
            if parent in computed_cache_keys:
                upstream[parent] = computed_cache_keys[parent]
            elif parent in precomputed:
                current = state.get(parent) == precomputed[parent]
                upstream[parent] = precomputed[parent] + ("" if current else ":unexecuted")
            else:
                logger.debug("%s runs uncached: its parent %s has no cache key",
                             node.unique_id, parent)
                return {}
        policy = build_cache_policy_for_node(
            node, self._settings.project_dir, full_refresh, upstream,
            self._cache.key_storage if self._cache else None, macro_paths=macro_paths)
        computed_cache_keys[node.unique_id] = policy.compute_key()
        options: dict[str, Any] = {"cache_key_fn": policy, "refresh_cache": bool(full_refresh)}
        expiration = self._cache.expiration if self._cache else None
        if self._cache is not None and self._cache.use_source_freshness_expiration \
                and freshness_results and all_nodes:
            from prefect_dbt.core import _freshness

            fresh_for = _freshness.compute_freshness_expiration(node.unique_id, all_nodes,
                                                                freshness_results)
            expiration = fresh_for if fresh_for is not None else expiration
        if expiration is not None:
            options["cache_expiration"] = expiration
        storage = self._result_storage_for_tasks()
        if storage is not None:
            options["result_storage"] = storage
        return options

    def _precompute_all_cache_keys(self, all_executable_nodes: dict[str, DbtNode],
                                   full_refresh: bool,
                                   macro_paths: dict[str, str | None]) -> dict[str, str]:
        """Every executable node's key, parents first, whatever the selection.

        A node whose declared file cannot be read gets no key, and neither does anything
        below it (their keys could not follow changes to that file). Parents outside the
        executable nodes (sources) do not count.
        """
        nodes = all_executable_nodes
        waiting = {nid: {d for d in node.depends_on if d in nodes} for nid, node in nodes.items()}
        children: dict[str, list[str]] = {nid: [] for nid in nodes}
        for nid, parents in waiting.items():
            for parent in parents:
                children[parent].append(nid)
        ready = [nid for nid, parents in waiting.items() if not parents]
        keys: dict[str, str] = {}
        project_dir = Path(self._settings.project_dir)
        while ready:
            nid = ready.pop()
            node = nodes[nid]
            if self._key_computable(node, nodes, keys, project_dir):
                upstream = {d: keys[d] for d in node.depends_on if d in keys}
                keys[nid] = build_cache_policy_for_node(
                    node, project_dir, full_refresh, upstream,
                    macro_paths=macro_paths).compute_key()
            for child in children[nid]:
                waiting[child].discard(nid)
                if not waiting[child]:
                    ready.append(child)
        return keys

    @staticmethod
    def _key_computable(node: DbtNode, nodes: dict[str, DbtNode], keys: dict[str, str],
                        project_dir: Path) -> bool:
        if any(d in nodes and d not in keys for d in node.depends_on):
            return False
        if node.original_file_path:
            try:
                (project_dir / node.original_file_path).read_bytes()
            except OSError:
                logger.debug("%s gets no cache key: its file %s cannot be read",
                             node.unique_id, node.original_file_path)
                return False
        return True
