"""The layer graph of Quarry's imports, checked: a module may import its own package and the layers
below it, never a layer above nor a sibling on the same rank.

Run `python -m quarry.devtools.imports`: it prints which package imports which, and exits 1 listing
each import that points the wrong way. Every import counts, including those inside functions (a
lazy import is still a dependency) and under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel

#: Lowest first. Packages on one rank are independent of each other; `cli` composes all of them.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("config",),
    ("store",),
    ("llm",),
    ("extract",),
    ("agent", "finetune"),
    ("evals",),
    ("teach",),
    ("cli",),
    ("devtools",),
)
ROOT = Path(__file__).resolve().parents[1]


class Violation(BaseModel):
    """One import that points up or sideways."""

    module: str
    line: int
    imported: str
    reason: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: imports {self.imported} ({self.reason})"


def _rank() -> dict[str, int]:
    return {name: rank for rank, names in enumerate(LAYERS) for name in names}


def layer_of(module: str) -> str | None:
    """The layer of a dotted module name inside quarry (`quarry.agent.loop` -> `agent`); None outside."""
    parts = module.split(".")
    if parts[0] != "quarry" or len(parts) < 2:
        return None
    return parts[1]


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            return [".".join(base + ([node.module] if node.module else []))]
        return [node.module or ""]
    return []


def imports_of(root: Path = ROOT) -> list[tuple[str, int, str]]:
    """Every (module, line, imported module) inside the quarry package at `root`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for name in _imported(node, module, path.name == "__init__.py"):
                if name == "quarry" or name.startswith("quarry."):
                    found.append((module, node.lineno, name))
    return found


def check(root: Path = ROOT) -> tuple[dict[str, set[str]], list[Violation]]:
    """The package graph (layer -> layers it imports) and every import against the layer order."""
    rank = _rank()
    graph: dict[str, set[str]] = defaultdict(set)
    violations = []
    for module, line, name in imports_of(root):
        source, target = layer_of(module), layer_of(name)
        if source is None or target is None or source == target:
            continue
        graph[source].add(target)
        if source not in rank or target not in rank:
            unknown = source if source not in rank else target
            violations.append(Violation(module=module, line=line, imported=name,
                                        reason=f"{unknown} is in no layer of LAYERS"))
        elif rank[target] > rank[source]:
            violations.append(Violation(module=module, line=line, imported=name, reason=f"{target} is above {source}"))
        elif rank[target] == rank[source]:
            violations.append(Violation(module=module, line=line, imported=name,
                                        reason=f"{target} and {source} are independent siblings"))
    return dict(graph), violations


def main() -> int:
    graph, violations = check()
    rank = _rank()
    for names in reversed(LAYERS):
        for name in names:
            below = sorted(graph.get(name, ()), key=lambda n: (-rank.get(n, -1), n))
            print(f"{name:>9} -> {', '.join(below) or '(nothing)'}")
    for violation in violations:
        print(f"error: {violation}", file=sys.stderr)
    if violations:
        print(f"{len(violations)} import(s) point the wrong way", file=sys.stderr)
        return 1
    print("imports point one way: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
