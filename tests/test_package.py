"""The package as pip sees it: pyproject's ranges admit the pinned versions, the `otflow` command is
`python -m otcore`, and a wheel built from the tree installs every module and a working `otflow`."""
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import import_module
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _pins() -> dict[str, str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    pins = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    return {r.name.lower(): next(iter(r.specifier)).version for r in pins}


def _ranges() -> dict[str, Requirement]:
    extras = [r for group in PROJECT["optional-dependencies"].values() for r in group]
    reqs = [Requirement(r) for r in PROJECT["dependencies"] + extras]
    return {r.name.lower(): r for r in reqs if r.name != PROJECT["name"]}


def test_every_pin_lies_in_its_range_and_every_range_is_pinned():
    pins, ranges = _pins(), _ranges()
    assert pins["torch"] == "2.13.0"
    assert set(pins) == set(ranges), "requirements.txt and pyproject.toml name different packages"
    for name, req in ranges.items():
        assert req.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside pyproject's {req.specifier}"
    runtime = {Requirement(r).name.lower() for r in PROJECT["dependencies"]}
    assert "streamlit" not in runtime and "pytest" not in runtime      # the library needs neither


def test_the_console_command_is_python_m_otcore(capsys):
    module, _, name = PROJECT["scripts"]["otflow"].partition(":")
    main = getattr(import_module(module), name)
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for command in ("train", "evaluate", "transport", "ratio", "mi", "density", "train-images", "translate"):
        assert f"    {command} " in text
    same = subprocess.run([sys.executable, "-m", "otcore", "--help"], capture_output=True, text=True, check=True,
                          cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert same.stdout == text                                         # python -m otcore is the same command
    assert main(["evaluate", "no/such/run"]) == 2                     # an error is a message and exit code 2


@pytest.mark.slow
def test_a_wheel_built_from_the_tree_installs_otcore_and_a_working_otflow(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT / "otcore", src / "otcore", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OTFLOW_TORCH_THREADS": "1", "PIP_NO_INDEX": "1"}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path / "dist"), str(src)], check=True, env=env, timeout=300)
    wheel, = (tmp_path / "dist").glob("otflow_studio-*.whl")
    packed = {n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".py")}
    in_tree = {p.relative_to(src).as_posix() for p in (src / "otcore").rglob("*.py")}
    assert in_tree <= packed, f"missing from the wheel: {sorted(in_tree - packed)[:5]}"
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, env=env, timeout=300)
    run_env = {**env, "PYTHONPATH": str(site)}
    where = subprocess.run([sys.executable, "-c", "import otcore; print(otcore.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, check=True, env=run_env)
    assert Path(where.stdout.strip()).is_relative_to(site)           # the installed copy, not the checkout
    done = subprocess.run([sys.executable, str(site / "bin" / "otflow"), "train", "--help"], cwd=tmp_path,
                          capture_output=True, text=True, env=run_env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: otflow train") and "--warm-steps" in done.stdout
