"""The package's stages import one way only: an earlier stage never imports a later one, and no module cycles.

read -> tables -> checks -> prose -> dataset -> measures -> evaluation -> workflow -> updates -> pack -> cli, with
the core modules (errors, text, findings, concurrency) below them all. Lazy imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "cchc_analysis"
LAYERS = ["core", "read", "tables", "checks", "prose", "dataset", "measures", "evaluation", "workflow", "updates",
          "pack", "synthetic", "cli"]
CORE = {"__init__", "errors", "text", "findings", "concurrency"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "core"
    head = parts[1]
    if head in CORE:
        return "core"
    if head == "__main__":
        return "cli"
    return head


def imports_of(path: Path) -> set[str]:
    """Every cchc_analysis module imported anywhere in the file (top level or inside functions)."""
    found = set()
    base = module_name(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("cchc_analysis"))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative import
                depth = len(base.split(".")) - node.level + (1 if path.name == "__init__.py" else 0)
                package = base.split(".")[:depth]
                module = ".".join(package + ([module] if module else []))
            if module.startswith("cchc_analysis"):
                found.add(module)
                found.update(f"{module}.{a.name}" for a in node.names
                             if (PACKAGE.parent / f"{module}.{a.name}".replace(".", "/")).with_suffix(".py").exists()
                             or (PACKAGE.parent / f"{module}.{a.name}".replace(".", "/")).is_dir())
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_subpackage_is_a_known_layer():
    unknown = {layer_of(m) for m in graph()} - set(LAYERS)
    assert not unknown, f"add these to LAYERS in the right place: {sorted(unknown)}"


def test_no_stage_imports_a_later_stage():
    rank = {name: i for i, name in enumerate(LAYERS)}
    wrong = [f"{module} ({layer_of(module)}) imports {target} ({layer_of(target)})"
             for module, targets in graph().items() for target in targets
             if target != "cchc_analysis" and rank[layer_of(target)] > rank[layer_of(module)]]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    edges = graph()
    modules = set(edges)
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges.get(node, ())):
            if target not in modules or target == "cchc_analysis":
                continue
            if state.get(target) == 1:
                cycles.append(" -> ".join(stack[stack.index(target):] + [target]))
            elif target not in state:
                visit(target, stack + [target])
        state[node] = 2

    for module in sorted(modules):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)
