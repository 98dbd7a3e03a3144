"""Placeholder entry point for a tool whose implementation has not landed yet.

It says so plainly and exits non-zero: a command that pretends to work is worse than none.
"""

from __future__ import annotations

import os
import sys


def not_implemented(tool: str, issue: int) -> int:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else tool
    print(f"{name}: not implemented yet in kafkatools (tracked in issue {issue})", file=sys.stderr)
    return 2
