#!/usr/bin/env bash
# Shared by the Kafka-named *.sh launchers: run kafkatools' command $1 with the remaining args.
# Prefers this checkout's virtualenv, then a command on PATH (pip/Homebrew install).
tool=$1; shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -x "$here/../.venv/bin/$tool" ]; then exec "$here/../.venv/bin/$tool" "$@"; fi
if command -v "$tool" >/dev/null 2>&1; then exec "$tool" "$@"; fi
echo "$tool: kafkatools is not installed (run: pip install kafkatools, or dev/setup.sh in a checkout)" >&2
exit 127
