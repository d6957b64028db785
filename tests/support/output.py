"""Where a test run leaves its logs and screenshots: `test-output/`, or the directory in
`PARLEY_TEST_OUTPUT`, so two runs side by side (CI's SQLite and PostgreSQL suites) keep
theirs apart."""

import os
from pathlib import Path

OUTPUT_DIR = Path(
    os.environ.get("PARLEY_TEST_OUTPUT") or Path(__file__).resolve().parents[2] / "test-output"
)
