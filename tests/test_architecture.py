"""The house: imports run only downward, and the docs' file contract matches the catalogue.

Layers, top to bottom: entry points (``cli``, ``preflight``) → stage packages in workflow order
(export, scenarios,
metrics, ecology, transport, retrieve) → the shared ground (every top-level module) → third-party
packages. A module may import from its own layer or any layer below, never above, and the import
graph has no cycle. Imports are read from the source with :mod:`ast` (function-level imports
included), so a lazy import cannot hide an upward arrow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

from agglonet.outputs import markdown_contract

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "agglonet"
#: Rank of each layer: a module may import only modules of equal or lower rank.
STAGES = {"export": 6, "scenarios": 5, "metrics": 4, "ecology": 3, "transport": 2, "retrieve": 1}
ENTRY_POINTS = {"agglonet.cli": 9, "agglonet.preflight": 9}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def rank(module: str) -> int:
    if module in ENTRY_POINTS:
        return ENTRY_POINTS[module]
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in STAGES:
        return STAGES[parts[1]]
    return 0  # the shared ground


def import_graph() -> nx.DiGraph:
    modules = {module_name(p): p for p in SRC.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                base = node.module
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for target in targets:
                if target in modules and target != name:
                    graph.add_edge(name, target)
    return graph


def test_the_graph_is_read():
    graph = import_graph()
    assert ("agglonet.transport.loaders", "agglonet.transport.graph") in graph.edges
    assert ("agglonet.io", "agglonet.styles") in graph.edges
    assert graph.number_of_edges() > 80


def test_no_import_cycle():
    cycles = list(nx.simple_cycles(import_graph()))
    assert cycles == [], f"import cycles: {cycles}"


def test_no_upward_import():
    upward = [(a, b) for a, b in import_graph().edges if rank(b) > rank(a)]
    assert upward == [], "imports that run upward (module → module of a higher layer): " + \
        ", ".join(f"{a} → {b}" for a, b in upward)


def test_stage_packages_do_not_import_snakemake():
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                    [a.name for a in node.names]
                assert not any(n.split(".")[0] == "snakemake" for n in names), path


def test_architecture_doc_lists_the_catalogue():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert markdown_contract() in doc, (
        "docs/architecture.md is out of date with agglonet.outputs: regenerate its file "
        "contract with `python -m agglonet.outputs > /tmp/contract.md` and paste it in")
