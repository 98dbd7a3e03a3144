"""Shared test fixtures: paths to the read-only material in ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "kafka-fixtures"


@pytest.fixture(scope="session")
def kafka_fixtures() -> Path:
    if not FIXTURES.is_dir():
        pytest.fail(f"Kafka fixture files are missing: expected them at {FIXTURES}")
    return FIXTURES
