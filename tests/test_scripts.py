"""Every chapter script runs end to end with --quick (tiny nets, a few steps), and so do the benchmarks."""

import subprocess
import sys

import pytest

from tests.helpers import ROOT, subprocess_env

CHAPTERS = sorted((ROOT / "chapters").glob("*.py"))
BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))


def run_quick(script, cwd):
    return subprocess.run(
        [sys.executable, str(script), "--quick"], cwd=cwd, env=subprocess_env(), capture_output=True, text=True, timeout=600
    )


def test_there_are_chapters():
    assert CHAPTERS, "chapters/ holds no scripts"


@pytest.mark.parametrize("script", CHAPTERS + BENCHMARKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_script_runs_quick(script, tmp_path):
    result = run_quick(script, tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    if script.parent.name == "chapters":  # a chapter leaves its pictures behind
        assert list(tmp_path.rglob("*.png")), "the chapter wrote no image"
