"""The package's layers: every kgan module imports only from layers below its own, so one idea has one home.

From the bottom: `defaults`; the pure pieces (`layers`, `losses`, `penalties`, `augment`, `latent`,
`images`, `plots`, `distribute`); `nets`, `trainers`, `data` (reading), `callbacks`, `export`, `figures`;
`datasets` and `recipes`; `metrics` (its toy-face decoder reads the renderer); `monitor` and `evaluate`;
`run`; `cli`. A module may import its own package's modules and any unit of
a lower rank — never a unit of its own rank or above (nets know nothing of trainers, trainers nothing
of the run, the run nothing of the CLI). `kgan/__init__.py`, the public face, imports everything.
"""

import ast
import pathlib

import pytest

from tests.helpers import ROOT

RANKS = {
    "defaults": 0,
    **dict.fromkeys(["layers", "losses", "penalties", "augment", "latent", "images", "plots", "distribute"], 1),
    **dict.fromkeys(["nets", "trainers", "data", "callbacks", "export", "figures"], 2),
    **dict.fromkeys(["datasets", "recipes"], 3),
    "metrics": 4,  # the toy-face decoder reads the renderer's layout (datasets)
    **dict.fromkeys(["monitor", "evaluate"], 5),
    "run": 6,
    "cli": 7,
}
PACKAGE = ROOT / "kgan"


def unit_of(module):
    """'kgan.data.scan' → 'data'; 'kgan' → None (the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def imported_units(source, module):
    """(line, imported unit) for every import of a kgan module in `source`, inside functions too."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "kgan"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.split(".")[0] == "kgan":
            if node.module == "kgan":  # `from kgan import nets, penalties`
                found += [(node.lineno, f"kgan.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return [(line, unit_of(name)) for line, name in found]


def violations(files):
    """'path:line: unit (rank) imports unit (rank)' for every import that does not run downward."""
    problems = []
    for path, source in files.items():
        module = ".".join(pathlib.PurePath(path).with_suffix("").parts).removesuffix(".__init__")
        own = unit_of(module)
        if own is None:
            continue  # kgan/__init__.py: the public face
        if own not in RANKS:
            problems.append(f"{path}: the unit {own!r} has no rank in RANKS; give it one")
            continue
        for line, unit in imported_units(source, module):
            if unit is None:
                problems.append(f"{path}:{line}: imports the whole kgan package")
            elif unit != own and (unit not in RANKS or RANKS[unit] >= RANKS[own]):
                problems.append(f"{path}:{line}: {own} ({RANKS[own]}) imports {unit} ({RANKS.get(unit, '?')})")
    return problems


def package_files():
    return {str(path.relative_to(ROOT)): path.read_text() for path in sorted(PACKAGE.rglob("*.py"))}


def test_every_unit_of_the_package_has_a_rank():
    units = {unit_of(".".join(pathlib.PurePath(path).with_suffix("").parts)) for path in package_files()}
    assert units - {None, "__init__"} == set(RANKS)


def test_imports_only_run_downward():
    assert violations(package_files()) == []


@pytest.mark.parametrize(
    "path, source, problem",
    [
        ("kgan/nets/dcgan.py", "from kgan.trainers import GAN", "nets (2) imports trainers (2)"),
        ("kgan/trainers/base.py", "def f():\n    import kgan.run\n", "trainers (2) imports run (6)"),
        ("kgan/data/pipeline.py", "from kgan import datasets", "data (2) imports datasets (3)"),
        ("kgan/run.py", "import kgan", "imports the whole kgan package"),
        ("kgan/novel.py", "x = 1", "the unit 'novel' has no rank"),
    ],
)
def test_the_check_catches_an_upward_import(path, source, problem):
    found = violations({path: source})
    assert len(found) == 1 and problem in found[0]


def test_the_check_allows_downward_and_same_package_imports():
    ok = {
        "kgan/data/pipeline.py": "from kgan.data.scan import scan_source\nfrom kgan.defaults import IMAGE_SIZE",
        "kgan/cli.py": "def f():\n    from kgan.run import train\n    from kgan import recipes",
    }
    assert violations(ok) == []
