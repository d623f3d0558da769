"""The `indice-kiosk` command's first step: start again on a heap that overwrites what is freed, then run.

Neither Python nor malloc clears what is freed: a dropped string's bytes stay in place until the memory
is used again. Measured on a real kiosk (tests/test_process_memory.py): after a session's wipe its
process still held 3 to 14 copies of each answer (76-85 in all: freed strings, rendered lines, the
bytes read from the terminal), though no live object held one. Python's own allocator (pymalloc) keeps
freed blocks as they were and cannot be told otherwise. So the kiosk runs on glibc's malloc
(PYTHONMALLOC=malloc) with "perturb" on, which fills every block with a byte as it is freed -- except
the blocks glibc parks in its per-thread cache (tcache), so that cache is turned off. What remains is
what is alive, which the wipe empties (indice_kiosk/privacy.py). The allocator is chosen as the
interpreter starts, so the process starts itself again (same pid, same command line); this module
imports nothing but os and sys, so the first start costs only the interpreter's own (bench row 1
counts it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

SCRUBBING_HEAP_TUNABLES = "glibc.malloc.tcache_count=0:glibc.malloc.perturb=255"
# Set in the environment of the program started again, so it is started again only once (PYTHONMALLOC is
# ignored under `python -E`: the marker, not the allocator, says it was done).
SCRUBBING_HEAP_MARKER = "INDICE_KIOSK_SCRUBBING_HEAP"


# What the site's units and sshd set for the kiosk (deploy/: tests/test_deployment.py checks they agree),
# so an installed kiosk starts on the scrubbing heap at once; a kiosk started by hand starts again.
SCRUBBING_HEAP_ENVIRONMENT = {"PYTHONMALLOC": "malloc", "GLIBC_TUNABLES": SCRUBBING_HEAP_TUNABLES,
                              SCRUBBING_HEAP_MARKER: "1"}


def scrubbing_heap_environment(environ: Mapping[str, str]) -> dict[str, str] | None:
    """The environment to start the program again in, or None when this process already runs so."""
    if environ.get(SCRUBBING_HEAP_MARKER) == "1":
        return None
    tunables = environ.get("GLIBC_TUNABLES")
    tunables = f"{tunables}:{SCRUBBING_HEAP_TUNABLES}" if tunables else SCRUBBING_HEAP_TUNABLES
    return {**environ, **SCRUBBING_HEAP_ENVIRONMENT, "GLIBC_TUNABLES": tunables}


def start_on_scrubbing_heap() -> None:
    """Start this program again on the scrubbing heap; returns at once when it already runs on it."""
    environment = scrubbing_heap_environment(os.environ)
    if environment is None:
        os.environ.pop(SCRUBBING_HEAP_MARKER, None)  # not for the programs the kiosk starts (mozc)
        return
    sys.stdout.flush()
    sys.stderr.flush()
    script = sys.argv[0]
    if os.path.basename(script) == "indice-kiosk" and os.access(script, os.X_OK):
        # The command itself again, not the interpreter: the process keeps its name ("indice-kiosk" in
        # ps, pgrep and /proc/PID/comm; a restart through python would be named "python3").
        os.execve(script, sys.argv, environment)
    os.execve(sys.executable, sys.orig_argv, environment)


def main() -> int:
    start_on_scrubbing_heap()
    from indice_kiosk.cli import main as run_command

    return run_command()
