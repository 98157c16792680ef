"""kill -9 during saves, take writing and library scans leaves everything openable (benchmarks/crash_safety.py)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "crash_safety.py"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_random_kills_leave_projects_takes_and_the_index_whole():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, str(SCRIPT), "--kills", "10", "--seed", "7"], capture_output=True,
                            text=True, env=env, timeout=880)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:] if line and not line.startswith(" ")}
    assert set(rows) == {"save", "takes", "scan"}
    for name, row in rows.items():
        kills, after_restart, failures = int(row[1]), int(row[4]), int(row[5])
        assert kills == 10 and after_restart == 0 and failures == 0, (name, row)
