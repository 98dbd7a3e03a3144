#!/usr/bin/env bash
exec "$(dirname "$0")/_launch.sh" kafka-leader-election "$@"
