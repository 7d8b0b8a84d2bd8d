"""Size limits that keep modules readable: no file under quarry/ over 450 lines, no function over 60.

Run `python -m quarry.devtools.sizes`: it lists what is over a limit and exits 1 if anything is.
A function's length runs from its `def` (decorators excluded) to its last line, docstring included.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_FILE_LINES = 450
MAX_FUNCTION_LINES = 60
ROOT = Path(__file__).resolve().parents[1]


def oversized(root: Path = ROOT) -> list[str]:
    """One line per file or function over its limit, as `path:line: what (n lines)`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(root.parent)
        lines = text.count("\n") + (not text.endswith("\n") and bool(text))
        if lines > MAX_FILE_LINES:
            found.append(f"{where}: file has {lines} lines (limit {MAX_FILE_LINES})")
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{where}:{node.lineno}: function {node.name} has {length} lines "
                                 f"(limit {MAX_FUNCTION_LINES})")
    return found


def main() -> int:
    found = oversized()
    for line in found:
        print(f"error: {line}", file=sys.stderr)
    if found:
        return 1
    print(f"every file <= {MAX_FILE_LINES} lines, every function <= {MAX_FUNCTION_LINES}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
