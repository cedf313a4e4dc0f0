"""The house rules of issue 15, checked on the source tree itself (ast, no imports of monitor's modules).

- no module under src/monitor over 600 lines;
- the database drivers (sqlite3, sqlite_utils, psycopg) are imported only under src/monitor/store/;
- no import circle between monitor's packages, and none back up a layer (``TYPE_CHECKING`` imports excluded:
  they never run);
- every public method of every archive class is declared on a storage Protocol in store/base.py.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "monitor"
MAX_LINES = 600
DRIVERS = {"sqlite3", "sqlite_utils", "psycopg", "psycopg_pool"}

# Layers, lowest first: a module may import from its own layer or below, never above. A package's
# layer is that of its first dotted part under monitor ("monitor.extract.page" -> "extract").
LAYERS: list[set[str]] = [
    {"_version", "errors", "timefmt", "diffs"},
    {
        "models",
        "records",
        "htmltext",
        "textnorm",
        "inflate",
        "query",
        "lock",
        "logs",
        "rawpage",
        "formats",
        "parquet",
        "opml",
        "status",
    },
    {"extract", "dedup", "stories", "schedule", "snippets", "config", "metrics", "moments", "explain"},
    {"parse", "fetch", "articles", "discovery", "workers", "pool_warmup"},
    {"store"},
    {"alerts", "pipeline", "reextract"},
    {"daemon", "api", "web"},
    {"cli", "__main__", "__init__"},
]


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _runtime_imports(tree: ast.Module) -> list[str]:
    """Modules imported when the module runs (what a ``TYPE_CHECKING`` block names is left out)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    names = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "monitor":  # `from monitor import textnorm` imports a submodule
                names += [
                    f"monitor.{alias.name}" if _is_module(alias.name) else "monitor" for alias in node.names
                ]
            else:
                names.append(node.module)
    return names


def _is_module(name: str) -> bool:
    return (SRC / f"{name}.py").exists() or (SRC / name / "__init__.py").exists()


def _layer(module: str) -> int:
    parts = module.split(".")
    head = parts[1] if len(parts) > 1 else "__init__"
    for level, members in enumerate(LAYERS):
        if head in members:
            return level
    raise AssertionError(f"{module}: not in any layer of test_layout.LAYERS; add it where it belongs")


def test_no_module_over_600_lines() -> None:
    long = {
        str(path.relative_to(SRC.parent)): n
        for path in _modules().values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_database_drivers_only_in_the_store() -> None:
    outside = {
        name: sorted(set(imports) & DRIVERS)
        for name, path in _modules().items()
        if not name.startswith("monitor.store")
        and (
            imports := {
                i.split(".")[0] for i in _runtime_imports(ast.parse(path.read_text(encoding="utf-8")))
            }
        )
        & DRIVERS
    }
    assert outside == {}


def test_imports_only_go_down_the_layers_and_never_circle() -> None:
    modules = _modules()
    upward = []
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for imported in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if imported != "monitor" and not imported.startswith("monitor."):
                continue
            if _layer(imported) > _layer(name):
                upward.append(f"{name} -> {imported}")
            a, b = name.split(".")[:2], imported.split(".")[:2]
            if a != b:
                graph[".".join(a)].add(".".join(b))
    assert upward == []
    # no circle between packages/modules
    seen: dict[str, int] = {}
    circles = []

    def visit(node: str, trail: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if seen.get(nxt) == 1:
                circles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]) if nxt in trail else nxt)
            elif nxt not in seen:
                visit(nxt, [*trail, nxt])
        seen[node] = 2

    for start in sorted(graph):
        if start not in seen:
            visit(start, [start])
    assert circles == []


def _is_data(node: ast.ClassDef) -> bool:
    """A dataclass, NamedTuple, exception or Protocol: not an archive's behaviour."""
    decorators = " ".join(ast.unparse(d) for d in node.decorator_list)
    bases = " ".join(ast.unparse(b) for b in node.bases)
    return "dataclass" in decorators or any(
        w in bases for w in ("NamedTuple", "Protocol", "Error", "Exception")
    )


def test_every_public_archive_method_is_on_a_storage_protocol() -> None:
    base = ast.parse((SRC / "store" / "base.py").read_text(encoding="utf-8"))
    declared = {
        item.name
        for node in base.body
        if isinstance(node, ast.ClassDef) and any("Protocol" in ast.unparse(b) for b in node.bases)
        for item in node.body
        if isinstance(item, ast.FunctionDef)
    }
    assert declared, "store/base.py declares no Protocol"
    undeclared = {}
    for name, path in _modules().items():
        if not name.startswith("monitor.store.") or name == "monitor.store.base":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and not _is_data(node):
                public = {
                    item.name
                    for item in node.body
                    if isinstance(item, ast.FunctionDef)
                    and not item.name.startswith("_")
                    and not any("staticmethod" in ast.unparse(d) for d in item.decorator_list)
                }
                if missing := sorted(public - declared):
                    undeclared[f"{name}.{node.name}"] = missing
    assert undeclared == {}


def test_no_two_classes_share_a_name() -> None:
    """Two classes of one name (the storage Protocol and the read API were both ``Archive``) make every
    import a question of which one is meant."""
    where: dict[str, list[str]] = defaultdict(list)
    for name, path in _modules().items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                where[node.name].append(name)
    assert {cls: modules for cls, modules in where.items() if len(modules) > 1} == {}


def test_the_utc_format_is_written_once() -> None:
    """UTC moments are formatted by monitor.timefmt alone (it was spelled out in three modules)."""
    spelled = [
        name
        for name, path in _modules().items()
        if '.replace("+00:00", "Z")' in path.read_text(encoding="utf-8") and name != "monitor.timefmt"
    ]
    assert spelled == []


def test_every_public_function_is_used_by_monitor() -> None:
    """A public top-level function that nothing in src/monitor calls is dead code kept alive by its tests
    (``dedup.containment``, ``schedule.is_due``). Decorated functions (click commands, plugin hooks) are
    called by their framework and left out."""
    texts = {name: path.read_text(encoding="utf-8") for name, path in _modules().items()}
    everything = "\n".join(texts.values())
    unused = []
    for name, text in texts.items():
        for node in ast.parse(text).body:
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and not node.name.startswith("_")
                and not node.decorator_list
                and len(re.findall(rf"\b{re.escape(node.name)}\b", everything)) < 2
            ):
                unused.append(f"{name}.{node.name}")
    assert unused == []
