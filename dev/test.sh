#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: set-up, static checks, generated-code
# checks, then pytest (unit, integration with real broker processes, real client libraries).
set -euo pipefail
cd "$(dirname "$0")/.."
bash dev/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== ruff";          ruff check kafkatools tests benchmarks dev
echo "== mypy (strict)"; mypy
echo "== import layers"; lint-imports
echo "== generated code is fresh"
python -m kafkatools.codec.generate --check
python -m kafkatools.cli.docs --check
echo "== pytest"
python -m pytest -q -p no:cacheprovider "$@"
