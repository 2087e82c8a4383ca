"""Every package root uses one lazy-export idiom (core_blocks.lazy_exports): names in one
`_EXPORTS` dict, `__all__ = sorted(_EXPORTS)`, and one TYPE_CHECKING import per name for type
checkers, which must match the dict exactly (the linters' F401 is ignored for these files)."""

from __future__ import annotations

import ast
import importlib

import pytest

from tests.packaging.conftest import INTEGRATIONS, ROOT

ROOTS = {"core_blocks": ROOT / "core_blocks" / "__init__.py",
         **{name: ROOT / name / name / "__init__.py" for name in INTEGRATIONS}}


def parse(package: str) -> ast.Module:
    return ast.parse(ROOTS[package].read_text())


def assigned(tree: ast.Module, name: str) -> ast.expr:
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(ast.unparse(t).strip("()") == name for t in targets):
            return node.value
    raise AssertionError(f"no {name} = ... at module level")


def type_checking_imports(tree: ast.Module) -> dict[str, str]:
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom), ast.unparse(statement)
                names.update({alias.name: statement.module for alias in statement.names})
    return names


@pytest.mark.parametrize("package", sorted(ROOTS))
def test_root_uses_the_one_lazy_export_idiom(package):
    tree = parse(package)

    exports = ast.literal_eval(assigned(tree, "_EXPORTS"))
    assert ast.unparse(assigned(tree, "__all__")) == "sorted(_EXPORTS)"
    assert ast.unparse(assigned(tree, "__getattr__, __dir__")) == (
        "lazy_exports(__name__, _EXPORTS, __all__)")
    assert type_checking_imports(tree) == exports
    assert isinstance(ast.literal_eval(assigned(tree, "__version__")), str)


@pytest.mark.parametrize("package", sorted(ROOTS))
def test_every_export_resolves_and_dir_lists_them(package):
    module = importlib.import_module(package)

    assert dir(module) == module.__all__
    for name, source in module._EXPORTS.items():
        assert getattr(module, name) is getattr(importlib.import_module(source), name)
