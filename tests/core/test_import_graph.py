"""The modules of core_blocks import each other without a cycle, counting imports made inside
functions: one that only dodges a cycle is still a cycle.

`TYPE_CHECKING` imports never run and are not counted. The layers, bottom up: fields and
registry; block_model (what a block type is); documents (saving and loading, on the store and
the secret backends); block (`Block`, whose save/load methods import documents on first call,
so that defining a block type loads neither the store nor a secret backend); the core types,
runtime, CLI and web page above them. The registry finds plugins, the core's own among them, by
entry point, and knows the core's types by name (core_blocks.builtins).
"""

import ast
from pathlib import Path

import core_blocks

PACKAGE = Path(core_blocks.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    paths = list(PACKAGE.rglob("*.py"))
    modules = {_module_name(p): p for p in paths}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        type_only = {id(n) for node in ast.walk(tree)
                     if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                     for n in ast.walk(node)}
        for node in ast.walk(tree):
            if id(node) in type_only or not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:  # the module, or a submodule named in the import
                targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            found = [t for t in targets if t in modules and t not in (name, "core_blocks")]
            graph.setdefault(name, set()).update(found[:1])
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles = []

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                cycles.append(path)
            elif nxt > start and nxt not in path:
                walk(start, nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, start, [start])
    return cycles


def test_the_core_modules_import_each_other_without_a_cycle():
    assert _cycles(_import_graph()) == []


def test_the_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c"]]
    graph = _import_graph()
    assert "core_blocks.registry" in graph["core_blocks.block_model"]  # imports are seen
    assert "core_blocks.documents" in graph["core_blocks.block"]  # inside functions too
    assert "core_blocks.block" not in graph["core_blocks.documents"]
