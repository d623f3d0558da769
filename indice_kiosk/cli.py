"""The `indice-kiosk` command: run the kiosk or the operator console, clean up after a dead kiosk, or render
an application PDF for whoever checks the form.

    indice-kiosk [--config FILE] [--allow-quit] [--on-behalf] [--demo]
    indice-kiosk operator [--lang ja|en]
    indice-kiosk cleanup
    indice-kiosk render --sample --out FILE.pdf
    indice-kiosk render --answers FILE.toml --out FILE.pdf
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import threading
import tomllib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from indice_kiosk.core import config as config_module
from indice_kiosk.core import logs
from indice_kiosk.core.config import Config, ConfigError
from indice_kiosk.core.session import Session
from indice_kiosk.core.terminal import draws_japanese
from indice_kiosk.core.text import t
from indice_kiosk.walkup.ending import NextSession, start_again

if TYPE_CHECKING:
    from indice_kiosk.walkup.app import KioskApp

log = logging.getLogger("kiosk")

# Textual reads these: devtools would stream the screen to a socket, screenshots would land on disk.
UNSAFE_ENV = ("TEXTUAL", "TEXTUAL_SCREENSHOT", "TEXTUAL_SCREENSHOT_LOCATION", "TEXTUAL_SCREENSHOT_FILENAME",
              "TEXTUAL_ALLOW_SIGNALS", "TEXTUAL_DEBUG",
              # An exported size would freeze the kiosk at it: it would never follow a resize.
              "COLUMNS", "LINES")
CLEAR_TERMINAL = "\x1b[H\x1b[2J\x1b[3J"
# Exit statuses (docs/deployment.md, section 6): 0 ended normally -- quit, SIGHUP, SIGTERM, a hang-up, the
# session wiped each time; 1 refused (no terminal) or failed; 2 settings error; 4 ended by the watchdog
# (indice_kiosk/walkup/ending.py: the screen could not be written).
EXIT_REFUSED = 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="indice-kiosk", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="kiosk.toml to use (default: $INDICE_KIOSK_CONFIG, "
                        "./kiosk.toml, /etc/indice-kiosk/kiosk.toml)")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run the kiosk (the default)")
    for p in (parser, run):
        p.add_argument("--demo", action="store_true",
                       help="say on every screen that the printer is a demo (./scripts/kiosk sets it when it "
                       "starts its private demo CUPS)")
        p.add_argument("--allow-quit", action="store_true",
                       help="let the user quit with ctrl+q (always on over SSH)")
        p.add_argument("--on-behalf", action="store_true",
                       help="help-desk mode: enter an application for a caller (always on over SSH)")
    operator = sub.add_parser("operator", help="the help desk's console: CUPS queues, jobs, site settings")
    operator.add_argument("--lang", choices=("ja", "en"), help="language of the console")
    sub.add_parser("cleanup", help="cancel and purge the jobs a kiosk of this machine left in CUPS when it "
                   "died (systemd runs it after the kiosk stops; every kiosk also does it at start)")
    render = sub.add_parser("render", help="render an application PDF")
    source = render.add_mutually_exclusive_group(required=True)
    source.add_argument("--sample", action="store_true", help="a fictional sample applicant")
    source.add_argument("--answers", type=Path, help="a TOML file of answer keys, route and id_type")
    render.add_argument("--out", type=Path, required=True, help="where to write the PDF")
    render.add_argument("--lang", choices=("ja", "en"), help="language of error messages")
    render.add_argument("--invariant", action="store_true", help="byte-for-byte reproducible output")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = config_module.load(args.config)
    except ConfigError as error:
        lang = locale_language()
        print(f"indice-kiosk: {t(lang, 'settings.load_error', problem=error.text(lang))}", file=sys.stderr)
        return 2
    if args.command == "render":
        return render(args, config)
    if args.command == "cleanup":
        return cleanup(config)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # `ssh host cmd`, ssh -T, sftp, scp: keys would come through a pipe that never hangs up, and the
        # screen would go nowhere. The kiosk and the console are for a terminal only.
        print(f"indice-kiosk: {t(locale_language(), 'cli.needs_terminal')}", file=sys.stderr)
        return EXIT_REFUSED
    if args.command == "operator":
        return operator_console(config, lang=args.lang)
    return run(config, demo=args.demo, allow_quit=args.allow_quit, on_behalf=args.on_behalf)


def locale_language() -> str:
    """The catalogue language of whoever reads the command's own messages: Japanese under a Japanese
    locale (LC_ALL, LC_MESSAGES, LANG, as POSIX orders them), else English."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "ja" if value.startswith("ja") else "en"
    return "en"


def render(args: argparse.Namespace, config: Config) -> int:
    # The application model only here: the kiosk's start does not need it (bench/RESULTS.md, row 1).
    from indice_kiosk.core.application import ANSWER_KEYS, IdType, Route
    from indice_kiosk.paper import document, fonts

    lang = args.lang or config.kiosk.language
    if args.sample:
        application = document.sample_application()
    else:
        try:
            data = tomllib.loads(args.answers.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            print(f"{args.answers}: {error}", file=sys.stderr)
            return 2
        unknown = sorted(set(data) - set(ANSWER_KEYS) - {"route", "id_type"})
        if unknown:
            print(f"{args.answers}: unknown keys: {', '.join(unknown)}", file=sys.stderr)
            return 2
        try:
            route = Route(data.get("route", ""))
            id_type = IdType(data.get("id_type", "personal"))
        except ValueError as error:
            print(f"{args.answers}: {error}", file=sys.stderr)
            return 2
        if route is Route.NOT_ISSUED:
            print(f"{args.answers}: route not-issued has no application", file=sys.stderr)
            return 2
        answers = {k: str(v) for k, v in data.items() if k in ANSWER_KEYS}
        session = Session(lang=lang, route=route, id_type=id_type, answers=answers)
        checked = session.check_answers(lambda v: fonts.missing_chars(v, config.document.font))
        if not checked.ok:
            for problem in checked.problems:
                print(f"{args.answers}: {problem.key} ({t(lang, 'field.' + problem.key)}): "
                      f"{t(lang, 'problem.' + problem.code, chars=problem.chars)}", file=sys.stderr)
            return 1
        for warning in checked.warnings:
            print(f"{args.answers}: {warning.key}: {t(lang, 'problem.unprintable', chars=warning.chars)}",
                  file=sys.stderr)
        now = datetime.now(ZoneInfo(config.kiosk.timezone))  # the same clock as the kiosk's
        session.agree(now)
        application = session.make_application(config.project.name, now=now)
    pdf = document.render_application(application, font_path=config.document.font,
                                      fax_number=config.fax.number, page_url=config.umin.page,
                                      invariant=args.invariant)
    args.out.write_bytes(pdf)
    print(f"wrote {args.out} ({len(pdf)} bytes)")
    return 0


def cleanup(config: Config) -> int:
    """Remove what dead kiosks of this machine left in CUPS (indice_kiosk/cups/leftovers.py)."""
    from indice_kiosk.core.jobs import cups_server
    from indice_kiosk.cups import leftovers
    from indice_kiosk.cups.client import PrintError

    lang = locale_language()
    try:
        found = leftovers.sweep(cups_server(config.cups.server), timeout=config.cups.timeout)
    except PrintError as error:
        print(f"indice-kiosk: {t(lang, 'cleanup.failed', kind=error.kind)}", file=sys.stderr)
        return 1
    print(f"indice-kiosk: {t(lang, 'cleanup.done', removed=len(found.removed), kept=len(found.kept))}")
    return 0 if not found.kept else 1


def operator_console(config: Config, *, lang: str | None) -> int:
    harden_process()
    from indice_kiosk.console.app import ConsoleApp

    settings_path = config.path or Path("kiosk.toml")
    handler = logs.setup()
    try:
        ConsoleApp(config, lang=lang, settings_path=settings_path).run()
    finally:
        leave_terminal(handler)
    return 0


def leave_terminal(handler: logging.Handler) -> None:
    """Clear the screen and the scrollback, then write what the log kept for stderr (no system log). A
    terminal that hung up is let go of instead: stdout and stderr then lead to /dev/null, so that the
    interpreter's last flush does not fail on it (that failure makes the exit status 120)."""
    try:
        if sys.stdout.isatty():
            sys.stdout.write(CLEAR_TERMINAL)
    except OSError:
        pass
    logs.release(handler)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)


def harden_process() -> None:
    """No core dumps (they would hold the person's answers) and no Textual debugging channels."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for name in UNSAFE_ENV:
        os.environ.pop(name, None)


def make_app(config: Config, *, server: str | None, demo: bool, allow_quit: bool,
             on_behalf: bool = False, notice: NextSession | None = None) -> KioskApp:
    """The kiosk as ``run`` starts it (bench/ times its start from here): after each person it ends, to be
    started again (walkup/ending.py), and says ``notice`` first."""
    from indice_kiosk.core.jobs import PrintTarget
    from indice_kiosk.walkup.app import KioskApp

    target = PrintTarget(server=server, queue=config.cups.queue, timeout=config.cups.timeout)
    fax_target = PrintTarget(server=server, queue=config.fax.queue, timeout=config.cups.timeout)
    over_ssh = "SSH_CONNECTION" in os.environ
    # Over SSH it is an operator at the keyboard (a walk-up kiosk is never reached that way).
    if on_behalf or over_ssh:
        import getpass  # only here: it loads termios, which a headless start never needs (bench row 1)

        operator: str | None = getpass.getuser()
    else:
        operator = None
    return KioskApp(config, target=target, fax_target=fax_target, demo=demo,
                    allow_quit=allow_quit or over_ssh, handle_signals=True, operator=operator,
                    ascii_only=not draws_japanese(os.environ.get("TERM", "")),
                    fresh_process_per_session=True, notice=notice)


def run(config: Config, *, demo: bool, allow_quit: bool, on_behalf: bool = False) -> int:
    harden_process()
    from indice_kiosk.core.jobs import cups_server
    from indice_kiosk.cups import leftovers

    handler = logs.setup()
    server = cups_server(config.cups.server)
    app = make_app(config, server=server, demo=demo, allow_quit=allow_quit, on_behalf=on_behalf,
                   notice=NextSession.notice_from(os.environ))
    # Jobs an earlier kiosk of this machine left in CUPS when it died are removed once the first screen is up,
    # and looked for every minute after that, until this kiosk ends.
    stop_sweeping = threading.Event()
    leftovers.sweep_soon(server, timeout=config.cups.timeout, stop=stop_sweeping)
    log.info("kiosk started")
    try:
        next_session = app.run()
    finally:
        # First: a sweep thread still looking when the interpreter shuts down kept the process alive,
        # spinning, after a hang-up (tests/test_ssh.py, the frozen client).
        stop_sweeping.set()
        app.wipe("exit", leaving=True)
        app.finish_cancelling(config.cups.timeout + 1)
        log.info("kiosk stopped")
        leave_terminal(handler)
    if next_session is not None:
        # A person's session ended: the next one gets a fresh program (walkup/ending.py says why).
        start_again(next_session)
    return 0


if __name__ == "__main__":
    sys.exit(main())
