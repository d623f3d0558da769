"""Run the kiosk on a fresh machine: with a private demo CUPS when no print server is named.

``./scripts/kiosk [indice-kiosk arguments]`` runs this. It reads the settings the kiosk will read
(``--config FILE``, ``$INDICE_KIOSK_CONFIG``, ./kiosk.toml, /etc/indice-kiosk/kiosk.toml). When they name
a CUPS server (``cups.server``, else ``$CUPS_SERVER``: ``indice_kiosk.core.jobs.cups_server``) the kiosk
simply runs. Otherwise a private cupsd with a virtual printer (``devtools.democups``; nothing reaches
paper) is started on loopback with the configured queues, the kiosk runs against it with ``--demo`` (it
says so on every screen), and the demo is stopped when the kiosk ends.

The demo is a developer's and evaluator's tool: the installed product never starts one.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from devtools.democups import PrivateCups
from indice_kiosk.core import config as kiosk_config
from indice_kiosk.core.jobs import cups_server

KIOSK = Path(sys.executable).parent / "indice-kiosk"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config", type=Path)
    known, _rest = parser.parse_known_args(argv)
    try:
        config = kiosk_config.load(known.config)
    except kiosk_config.ConfigError:
        return subprocess.call([str(KIOSK), *argv])  # the kiosk explains the problem itself
    if cups_server(config.cups.server) is not None or (argv[:1] and argv[0] in ("render", "operator")):
        os.execv(str(KIOSK), [str(KIOSK), *argv])
    faxing = config.delivery.mode != "print"
    demo = PrivateCups(queue=config.cups.queue, fax_queue=config.fax.queue if faxing else None)
    print("indice-kiosk: starting the demo CUPS (no print server configured)…", file=sys.stderr)
    demo.start()
    try:
        env = {**os.environ, "CUPS_SERVER": demo.server}
        kiosk = subprocess.Popen([str(KIOSK), *argv, "--demo"], env=env)
        # A stop for us is a stop for the kiosk (it wipes its session on these), then the demo goes.
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, lambda number, _frame: kiosk.send_signal(number))
        return kiosk.wait()
    finally:
        demo.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
