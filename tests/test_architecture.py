"""The layering rules of docs/architecture.md hold in the code: every import (module level or inside a
function) stays within what its package may import (the table is read from the doc), otcore's
modules import each other without cycles, and the CLI's common module imports no command."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBPACKAGES = ("cli", "compare", "dre", "images", "viz")
CHECKED = ("otcore", "ui", "views", "bench", "tests", "streamlit", "app")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _group(module: str) -> str | None:
    """The layer of a dotted module name, or None for the standard library and third parties."""
    parts = module.split(".")
    if parts[0] == "otcore":
        return f"otcore.{parts[1]}" if len(parts) > 1 and parts[1] in SUBPACKAGES else "otcore"
    if parts[0] == "browser_helpers":          # bench imports the browser helpers of tests/
        return "tests"
    return parts[0] if parts[0] in CHECKED else None


def _imports(path: Path, top_level_only: bool = False) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import in the file; ``from a import b`` gives a.b when
    a.b is a module of the tree, else a."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            subs = [f"{name}.{a.name}" for a in node.names if _is_module(f"{name}.{a.name}")]
            found += [(node.lineno, s) for s in subs] if len(subs) == len(node.names) else [(node.lineno, name)]
    return found


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _rules() -> dict[str, set[str]]:
    """The table 'What may import what' of docs/architecture.md: package -> what it may import."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = text.split("## What may import what", 1)[1]
    rules = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or not cells[0].startswith("`"):
            continue
        allowed = set(re.findall(r"`([\w.]+)`", cells[1]))
        for name in re.findall(r"`([\w.]+)`", cells[0]):
            rules[name] = allowed
    return rules


def _files(group: str) -> list[Path]:
    if group == "app":
        return [ROOT / "app.py"]
    if group == "otcore":
        return [p for p in (ROOT / "otcore").glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    folder = ROOT.joinpath(*group.split("."))
    return sorted(folder.rglob("*.py"))


def test_the_rules_cover_every_package_of_the_tree():
    rules = _rules()
    expected = {"otcore", "ui", "views", "app", "bench"} | {f"otcore.{s}" for s in SUBPACKAGES}
    assert expected <= set(rules), f"docs/architecture.md has no rule for {sorted(expected - set(rules))}"
    on_disk = {p.name for p in (ROOT / "otcore").iterdir() if (p / "__init__.py").exists()}
    assert on_disk <= set(SUBPACKAGES), f"a new otcore package needs its rule: {sorted(on_disk - set(SUBPACKAGES))}"


def test_every_import_follows_the_table_of_docs_architecture():
    broken = []
    for group, allowed in _rules().items():
        for path in _files(group):
            for line, name in _imports(path):
                target = _group(name)
                if target is not None and target != group and target not in allowed:
                    broken.append(f"{path.relative_to(ROOT)}:{line} imports {name} ({group} may not import {target})")
    assert not broken, "\n".join(broken)


def test_otcore_modules_import_each_other_without_cycles():
    modules = {_module(p): p for p in (ROOT / "otcore").rglob("*.py")}
    graph = {m: sorted({n for _, n in _imports(p, top_level_only=True) if n in modules and n != m})
             for m, p in modules.items()}
    done: set[str] = set()

    def cycle_from(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        for nxt in graph[node]:
            found = cycle_from(nxt, path + [node])
            if found:
                return found
        done.add(node)
        return None

    for module in sorted(modules):
        found = cycle_from(module, [])
        assert found is None, "import cycle: " + " -> ".join(found)


def test_the_cli_common_module_imports_no_command():
    commands = {_module(p) for p in (ROOT / "otcore" / "cli").glob("*.py")} - {"otcore.cli", "otcore.cli.common"}
    assert commands, "no command modules found"
    used = {name for _, name in _imports(ROOT / "otcore" / "cli" / "common.py")}
    assert not used & (commands | {"otcore.cli"}), f"common imports {sorted(used & (commands | {'otcore.cli'}))}"
    for command in commands:
        names = {name for _, name in _imports(ROOT.joinpath(*command.split(".")).with_suffix(".py"))}
        assert not names & (commands - {command}), f"{command} imports another command module"
