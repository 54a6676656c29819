"""The product documents itself: no file points outside the repository, every relative link of the
README and docs/ resolves, and every `docs/method.md §N` cited in the code names a section that exists."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["README.md", *map(str, Path(ROOT / "docs").glob("*.md"))]
CODE = [p for folder in ("otcore", "bench", "ui", "views") for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".md")]


def test_nothing_points_outside_the_repository():
    outside = []
    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *CODE, ROOT / "app.py"]:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "shared/design" in line or "../shared" in line:
                outside.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()[:80]}")
    assert not outside, "\n".join(outside)


def test_relative_links_of_the_readme_and_docs_resolve():
    missing = []
    for name in SOURCES:
        path = ROOT / name
        for target in re.findall(r"\]\(([^)#\s]+)", path.read_text(encoding="utf-8")):
            if "://" not in target and not (path.parent / target).exists():
                missing.append(f"{path.relative_to(ROOT)} -> {target}")
    assert not missing, missing


def test_every_cited_section_of_method_md_exists():
    text = (ROOT / "docs" / "method.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", text, flags=re.M))
    assert {"1", "2", "3", "4", "5", "6", "7", "2.3"} <= sections
    cited = {(p, s) for p in CODE for s in re.findall(r"docs/method\.md §(\d+(?:\.\d+)?)", p.read_text(encoding="utf-8"))}
    assert cited, "no docstring cites docs/method.md"
    unknown = sorted(f"{p.relative_to(ROOT)}: §{s}" for p, s in cited if s not in sections)
    assert not unknown, unknown
