"""The ``smartclass`` command: demo, hub, edge, validate, broker and bench."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from smartclass import __version__

logger = logging.getLogger(__name__)

EPILOG = """\
examples:
  smartclass demo --rooms 6          broker, hub and 6 simulated classrooms
  smartclass demo --fast-day         the same, a school day in 9 minutes from 06:45
  smartclass hub --port 8000         the hub service (settings: SMARTCLASS_HUB_* variables)
  smartclass hub users add NAME ...  the hub's users: add, list, disable, reset, token
  smartclass hub migrate             upgrade the hub's database (the hub also does at start)
  smartclass edge --config room.yaml a classroom agent (settings: SMARTCLASS_EDGE_* variables)
  smartclass edge pair --config R.yaml  a one-time code that pairs a tablet with the room's panel
  smartclass validate room.yaml      check a room or sites file and exit
  smartclass device projector HOST    query or switch a projector over PJLink
  smartclass sim projector --port N  a simulated PJLink projector on the network
  smartclass broker credentials ...  broker passwords and per-room ACLs for a deployment
  smartclass deploy secrets ...      CA, broker certificates, credentials and keys from an
                                     Ansible inventory
  smartclass bench ingest            measure the hub's ingest against a plain subscriber
  smartclass bench report            usage reports over a year of rollups (school, district)
  smartclass bench latency           request/reply latency against default socket settings
  smartclass bench memory            the hub's memory under a fuzz of large, malformed messages
  smartclass attendance enrol ...    consent, enrolment, withdrawal, QR cards (on the Pi)
  smartclass bench attendance        detection, identification, false accepts, fps per core
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smartclass",
        description="Controller for smart classrooms: edge agents, MQTT and the hub.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"smartclass {__version__}")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="how much to log (default: %(default)s)",
    )
    parser.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help="log lines as text, or one JSON object per line (default: %(default)s)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="run a broker, the hub and simulated classrooms",
        description="Start Mosquitto, the hub and N simulated classrooms of District 12 "
        "on this machine, print the URLs, and stop everything on Ctrl-C. The rooms follow "
        "the school day: lessons by the timetable, the class in and out, CO2 and noise with "
        "it, teachers asking IT for help now and then; --fast-day runs the day fast.",
    )
    demo.add_argument("--rooms", type=int, default=6, help="simulated classrooms (default: 6)")
    demo.add_argument("--port", type=int, default=8000, help="hub HTTP port (default: 8000)")
    demo.add_argument(
        "--mqtt-port",
        type=int,
        default=1883,
        help="broker port; a free one if taken (default: 1883)",
    )
    demo.add_argument(
        "--host", default="127.0.0.1", help="address the hub listens on (default: 127.0.0.1)"
    )
    demo.add_argument(
        "--data-dir", type=Path, default=Path("var/demo"), help="demo state (default: var/demo)"
    )
    demo.add_argument(
        "--interval", type=float, default=5.0, help="telemetry interval in seconds (default: 5)"
    )
    from smartclass import school_day

    school_day.add_arguments(demo)

    hub = sub.add_parser(
        "hub",
        help="run the hub service (ingest and REST API)",
        description="Run the hub: MQTT ingest into the database and the REST API. "
        "Settings come from SMARTCLASS_HUB_* environment variables (see docs/configuration.md).",
    )
    hub.add_argument("--host", default="127.0.0.1", help="listen address (default: 127.0.0.1)")
    hub.add_argument("--port", type=int, default=8000, help="listen port (default: 8000)")
    hub.add_argument("--sites", type=Path, help="YAML registry of sites and rooms")
    from smartclass import migrate_cli, users_cli

    hub_commands = hub.add_subparsers(dest="hub_command", metavar="SUBCOMMAND")
    users_cli.add_parsers(hub_commands)
    migrate_cli.add_parser(hub_commands)

    edge = sub.add_parser(
        "edge",
        help="run classroom agents",
        description="Run the edge agent of one classroom (or several in one process). "
        "Settings and secrets come from SMARTCLASS_EDGE_* environment variables.",
    )
    edge.add_argument(
        "--config",
        type=Path,
        action="append",
        metavar="ROOM.yaml",
        help="room configuration; repeat for several rooms in one process (required)",
    )
    from smartclass import panel_cli

    panel_cli.add_parser(edge.add_subparsers(dest="edge_command", metavar="COMMAND"))

    validate = sub.add_parser(
        "validate",
        help="check room or sites configuration files",
        description="Validate configuration files and exit: 0 when all are valid, 2 otherwise. "
        "Errors name the file, the line and the key.",
    )
    validate.add_argument("files", type=Path, nargs="+", metavar="FILE")

    from smartclass import broker_cli, deploy_cli, tools

    tools.add_parsers(sub)
    broker_cli.add_parsers(sub)
    deploy_cli.add_parsers(sub)
    from smartclass import attendance_cli

    attendance_cli.add_parser(sub)

    bench = sub.add_parser(
        "bench",
        help="run a benchmark",
        description="Benchmarks report ratios against a baseline measured in the same run.",
    )
    bench_sub = bench.add_subparsers(dest="bench", required=True, metavar="BENCH")
    ingest = bench_sub.add_parser(
        "ingest",
        help="hub ingest rate against a plain MQTT subscriber",
        description="N simulated agents publish telemetry through Mosquitto; compare the rate "
        "at which the hub stores it with the rate at which a plain subscriber receives it.",
    )
    ingest.add_argument("--agents", type=int, default=20, help="simulated agents (default: 20)")
    ingest.add_argument(
        "--messages", type=int, default=20000, help="telemetry messages in all (default: 20000)"
    )
    ingest.add_argument("--repeat", type=int, default=3, help="rounds; best is reported")
    ingest.add_argument(
        "--extras",
        choices=("on", "off", "both"),
        default="on",
        help="the hub's work per message beyond storing and acknowledging it (usage rollups "
        "and alerts): on (the default, as in production), off, or both in each round, with "
        "the ratio with / without",
    )
    report = bench_sub.add_parser(
        "report",
        help="usage reports over a year of rollups: a school's and the district's",
        description="Fill a year of hourly usage rollups for a fleet of rooms (on a temporary "
        "SQLite file, or the empty database of --database-url), then time a school's report "
        "over the year and the district's, several runs each. Exits 1 if the school's median "
        "is 200 ms or more.",
    )
    report.add_argument("--rooms", type=int, default=50, help="rooms (default: 50)")
    report.add_argument("--schools", type=int, default=2, help="schools (default: 2)")
    report.add_argument("--days", type=int, default=365, help="days filled (default: 365)")
    report.add_argument("--runs", type=int, default=20, help="runs of each report (default: 20)")
    report.add_argument(
        "--database-url",
        help="a database of its own (e.g. postgresql://…); its rollups are deleted afterwards",
    )
    latency = bench_sub.add_parser(
        "latency",
        help="request/reply latency with TCP_NODELAY against default sockets",
        description="Time QoS 1 request/reply round trips through Mosquitto with the project's "
        "socket settings and with the defaults (the baseline), in the same run.",
    )
    latency.add_argument("--rounds", type=int, default=200, help="round trips (default: 200)")
    memory = bench_sub.add_parser(
        "memory",
        help="hub memory under a sustained fuzz of large and malformed messages",
        description="Run a hub, send it rounds of large, malformed, forged and valid MQTT "
        "messages and make large API queries; compare its RSS after a warm-up round with its "
        "RSS at the end. Exits 1 if it grew 1.5 times or more.",
    )
    memory.add_argument("--rounds", type=int, default=10, help="rounds after the warm-up")
    memory.add_argument(
        "--messages", type=int, default=1200, help="messages per round (default: 1200)"
    )
    attendance = bench_sub.add_parser(
        "attendance",
        help="face attendance quality and speed over a labelled offline image set",
        description="Compose classroom frames from face images that ship in packages "
        "(scripts/fetch-faces), run the room's pipeline over them on one core and report the "
        "detection rate, the identification rate, false accepts (a stranger or another "
        "student named), frames per second at 640x480 and the time to decide a 40-pupil "
        "class. Exits 1 if a target is missed.",
    )
    attendance.add_argument("--frames", type=int, default=200, help="frames (default: 200)")
    attendance.add_argument("--seed", type=int, default=1, help="composition seed")
    attendance.add_argument("--json", type=Path, help="also write the figures here")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "what", None) is not None:
        args.what += extra  # `device projector HOST --password-env X on`: options in between
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    from smartclass import panel_cli
    from smartclass.logs import configure

    configure(args.log_level, args.log_format)
    if args.command == "demo":
        from smartclass.demo import run_demo
        from smartclass.school_day import options

        try:
            day = options(args)
        except ValueError as exc:
            parser.error(str(exc))
        return run_demo(
            rooms=args.rooms,
            http_port=args.port,
            mqtt_port=args.mqtt_port,
            host=args.host,
            data_dir=args.data_dir,
            interval=args.interval,
            day=day,
        )
    if args.command == "hub" and args.hub_command == "users":
        from smartclass import users_cli

        return users_cli.run(args)
    if args.command == "hub" and args.hub_command == "migrate":
        from smartclass import migrate_cli

        return migrate_cli.run(args)
    if args.command == "hub":
        from smartclass.run import run_hub

        return run_hub(host=args.host, port=args.port, sites=args.sites)
    if args.command == "edge" and args.edge_command == "pair":
        return panel_cli.run_pair(args)
    if args.command == "edge":
        if not args.config:
            parser.error("edge: --config ROOM.yaml is required")
        from smartclass.run import run_edge

        return run_edge(args.config)
    if args.command == "validate":
        from smartclass.run import validate

        return validate(args.files)
    if args.command in ("device", "sim"):
        from smartclass import tools

        return tools.run(args)
    if args.command == "broker":
        from smartclass import broker_cli

        return broker_cli.run(args)
    if args.command == "deploy":
        from smartclass import deploy_cli

        return deploy_cli.run(args)
    if args.command == "attendance":
        from smartclass import attendance_cli

        return attendance_cli.run(args)
    if args.command == "bench" and args.bench == "attendance":
        from smartclass.bench_attendance import run_attendance_bench

        return run_attendance_bench(frames=args.frames, seed=args.seed, out=args.json)
    if args.command == "bench" and args.bench == "memory":
        from smartclass.bench_memory import run_memory_bench

        return run_memory_bench(rounds=args.rounds, per_round=args.messages)
    if args.command == "bench" and args.bench == "report":
        from smartclass.bench_report import run_report_bench

        return run_report_bench(
            rooms=args.rooms, schools=args.schools, days=args.days, runs=args.runs,
            database_url=args.database_url,
        )  # fmt: skip
    if args.command == "bench" and args.bench == "latency":
        from smartclass.bench_latency import run_latency_bench

        return run_latency_bench(rounds=args.rounds)
    if args.command == "bench":
        from smartclass.bench_ingest import run_ingest_bench

        return run_ingest_bench(
            agents=args.agents, messages=args.messages, repeat=args.repeat, extras=args.extras
        )
    return 2  # pragma: no cover - argparse refuses unknown commands


if __name__ == "__main__":
    sys.exit(main())
