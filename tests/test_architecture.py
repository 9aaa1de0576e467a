"""The shape of the house: no import circles, blueprints apart, search on its own, views that only call services.

Imports are read from the source (every ``import`` and ``from ... import``,
including those inside functions and under ``TYPE_CHECKING``), so a circle
dodged with a late import still counts.  See docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "local_offer"
#: Longest a module may be before it should be split along its responsibilities.
MAX_LINES = 500


def module_name(path: Path) -> str:
    """Return the dotted name of a module file in the package."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> dict[str, Path]:
    """Return every module of the application (migrations are Alembic's), by dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py")) if "migrations" not in path.parts}


MODULES = source_files()


def imported_modules(name: str, path: Path) -> set[str]:
    """Return the application's modules a module imports, anywhere in it."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                # "from local_offer.listings import cards" imports the module cards; "from x import name", x.
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: imported_modules(name, path) for name, path in MODULES.items()}


def _blueprints() -> set[str]:
    """Return each blueprint: the package of a module that makes a Blueprint, or a top-level module that does."""
    found = set()
    for name, path in MODULES.items():
        if "Blueprint(" in path.read_text(encoding="utf-8"):
            found.add(name if path.parent == PACKAGE else module_name(path.parent / "__init__.py"))
    return found


BLUEPRINTS = _blueprints()


def blueprint_of(module: str) -> str | None:
    """Return the blueprint a module belongs to, or None for the application's services."""
    return next((name for name in BLUEPRINTS if module == name or module.startswith(name + ".")), None)


def cycles() -> list[list[str]]:
    """Return the groups of modules that import each other, directly or round a circle (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in sorted(GRAPH[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_round_a_circle():
    """No module reaches itself through its imports, however late the import is made."""
    assert cycles() == []


def test_no_blueprint_imports_another():
    """A blueprint holds its own views, forms and templates and calls services, never another blueprint."""
    crossings = sorted((module, other) for module, imports in GRAPH.items() for other in imports
                       if blueprint_of(module) and blueprint_of(other) and blueprint_of(module) != blueprint_of(other))
    assert crossings == []


def test_search_imports_nothing_of_the_application():
    """What search needs is handed to it at start-up; it imports only its own modules."""
    outside = sorted((module, other) for module, imports in GRAPH.items() if module.startswith("local_offer.search.")
                     or module == "local_offer.search" for other in imports
                     if not (other == "local_offer.search" or other.startswith("local_offer.search.")))
    assert outside == []


def test_only_the_search_facade_imports_whoosh():
    """Whoosh stays behind the engine module."""
    users = sorted(name for name, path in MODULES.items()
                   if any(isinstance(node, (ast.Import, ast.ImportFrom))
                          and any((getattr(node, "module", None) or alias.name).startswith("whoosh")
                                  for alias in node.names)
                          for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))))
    assert users == ["local_offer.search.engine"]


def _calls(path: Path) -> list[str]:
    """Return the dotted names of everything a module calls (``db.session.commit``, ``record_audit``)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            parts, target = [], node.func
            while isinstance(target, ast.Attribute):
                parts.append(target.attr)
                target = target.value
            if isinstance(target, ast.Name):
                parts.append(target.id)
            names.append(".".join(reversed(parts)))
    return names


VIEW_MODULES = sorted(name for name in MODULES if blueprint_of(name) and name.rpartition(".")[2] not in ("forms",))


@pytest.mark.parametrize("module", VIEW_MODULES)
def test_views_never_commit_or_write_the_audit_log_themselves(module):
    """Views parse, call one service function and render: the service owns the transaction and its audit entry."""
    writes = [call for call in _calls(MODULES[module])
              if call.endswith(("session.commit", "session.add", "session.delete", "session.flush"))
              or call.rpartition(".")[2] == "record_audit"]
    assert writes == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_500_lines(module):
    """A module that grows past 500 lines is doing more than one job: split it along its responsibilities."""
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines"


def test_the_walker_sees_late_imports_and_circles():
    """The checks above can fail: a function-level import counts, and a two-module circle is found."""
    tree = ast.parse("def f():\n    from local_offer import geo\n")
    assert any(isinstance(node, ast.ImportFrom) for node in ast.walk(tree))
    saved = {name: set(imports) for name, imports in GRAPH.items()}
    try:
        GRAPH["local_offer.models"].add("local_offer.geo")  # geo imports models; this closes a circle
        assert ["local_offer.geo", "local_offer.models"] in cycles()
    finally:
        GRAPH.clear()
        GRAPH.update(saved)
