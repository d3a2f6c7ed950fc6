"""``smartclass attendance …``: consent, enrolment, withdrawal, QR cards and an offline take,
on the Pi itself (the hub sends the same as commands to the device ``attendance``).

Each command works on the room's sealed vault in the agent's data folder (the running agent
reads it on its next change and reports the changes to the hub); photos are read, turned
into templates and never kept."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from edge.config import ConfigError, RoomFile, load_room_config

EPILOG = """\
examples:
  smartclass attendance key > /etc/smartclass/attendance.key     a new templates key
  smartclass attendance consent --config R.yaml --student hs-001 --parent --student-own \\
      --age-7-or-over --by it-lan
  smartclass attendance enrol --config R.yaml --student hs-001 a.jpg b.jpg c.jpg
  smartclass attendance withdraw --config R.yaml --student hs-001 --by it-lan
  smartclass attendance status --config R.yaml
  smartclass attendance cards --new-key school.key              a school's card key pair
  smartclass attendance cards --class 6a1 --key school.key --config R.yaml --out cards.png
  smartclass attendance take --config R.yaml --frames DIR       one offline take
"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "attendance",
        help="attendance: consent, enrolment, withdrawal, QR cards",
        description="Manage a room's attendance on its Pi: consent records, face templates "
        "(encrypted, never photos), withdrawal, QR check-in cards, and an offline take.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="attendance_command", required=True, metavar="COMMAND")

    def room(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--config", type=Path, required=True, metavar="ROOM.yaml",
            help="the room file (its attendance section names key and class)",
        )  # fmt: skip
        p.add_argument(
            "--data-dir", type=Path, metavar="DIR",
            help="the agent's data folder (default: SMARTCLASS_EDGE_DATA_DIR)",
        )  # fmt: skip

    commands.add_parser("key", help="print a new random key for the templates (base64)")
    consent = commands.add_parser(
        "consent", help="record a student's consent to face recognition",
        description="Record consent: the parent's always, and the student's own from age 7. "
        "Without it enrolment is refused.",
    )  # fmt: skip
    room(consent)
    consent.add_argument("--student", required=True, help="the school's student id (no name)")
    consent.add_argument("--parent", action="store_true", help="the parent consents")
    consent.add_argument("--student-own", action="store_true", help="the student consents")
    consent.add_argument("--age-7-or-over", action="store_true", help="the student is 7 or over")
    consent.add_argument("--by", required=True, help="who recorded the consent")
    enrol = commands.add_parser(
        "enrol", help="store a student's face templates from a few photos",
        description="Read the photos, keep one face template per photo (encrypted), never the "
        "photos. Refused unless the student's consent is recorded.",
    )  # fmt: skip
    room(enrol)
    enrol.add_argument("--student", required=True, help="the school's student id")
    enrol.add_argument("photos", type=Path, nargs="+", metavar="PHOTO")
    withdraw = commands.add_parser(
        "withdraw", help="consent withdrawn: delete the student's templates now"
    )
    room(withdraw)
    withdraw.add_argument("--student", required=True)
    withdraw.add_argument("--by", required=True, help="who recorded the withdrawal")
    status = commands.add_parser("status", help="consent and templates per student (no data)")
    room(status)
    cards = commands.add_parser(
        "cards", help="print a sheet of QR check-in cards, or make a school key pair",
        description="Each card carries a signed token (student id, serial, class, expiry), "
        "never a name. The private key stays with IT; the Pi needs only the public one.",
    )  # fmt: skip
    cards.add_argument(
        "--new-key", type=Path, metavar="FILE",
        help="write a new private key here and its public key beside (.pub)",
    )  # fmt: skip
    cards.add_argument("--class", dest="class_id", help="the class of the cards")
    cards.add_argument("--key", type=Path, help="the school's private key (PEM)")
    cards.add_argument("--students", help="ids, comma-separated (default: the room's roster)")
    cards.add_argument("--config", type=Path, help="a room file whose roster to print")
    cards.add_argument("--first-serial", type=int, default=1, help="serial of the first card")
    cards.add_argument("--expires", type=dt.date.fromisoformat, help="expiry (default: 31 May)")
    cards.add_argument("--out", type=Path, default=Path("cards.png"), help="the PNG sheet")
    take = commands.add_parser(
        "take", help="take attendance once, offline, over a folder of frames",
        description="Run the room's pipeline (its vault, roster and models) over the frames of "
        "a folder as one window and print the marks; nothing is sent.",
    )  # fmt: skip
    room(take)
    take.add_argument("--frames", type=Path, required=True, help="folder of frames")


def _fail(message: str) -> int:
    print(f"smartclass attendance: {message}", file=sys.stderr)
    return 2


def _room_vault(args: argparse.Namespace) -> tuple[RoomFile, Any, Path]:
    from edge.attendance.vault import Vault, load_key
    from edge.attendance.wiring import VAULT_FILE, attendance_dir
    from edge.settings import EdgeSettings
    from smartclass.panel_cli import room_folder

    room = load_room_config(args.config)
    if room.attendance is None:
        raise ConfigError(f"{args.config}: the room has no attendance section")
    folder = attendance_dir(room_folder(args.data_dir or EdgeSettings().data_dir, room))
    config = room.attendance
    key = load_key(env=config.key_env, file=config.key_file, data_dir=folder)
    vault = Vault(folder / VAULT_FILE, key, label=f"{room.site}/{room.room}",
                  retention_end=config.retention_end)  # fmt: skip
    return room, vault, folder


def run(args: argparse.Namespace) -> int:
    from edge.attendance.vault import VaultError

    command = args.attendance_command
    if command == "key":
        from edge.attendance.vault import new_key

        print(new_key())
        return 0
    if command == "cards":
        return _cards(args)
    try:
        room, vault, folder = _room_vault(args)
    except (ConfigError, VaultError, OSError) as exc:
        return _fail(str(exc))
    try:
        return _vault_command(args, room, vault, folder)
    except (VaultError, OSError, ValueError) as exc:
        return _fail(str(exc))


def _vault_command(args: argparse.Namespace, room: RoomFile, vault: Any, folder: Path) -> int:
    from protocol.attendance import ConsentParams

    command = args.attendance_command
    if command == "consent":
        change = vault.record_consent(ConsentParams(
            student=args.student, parent=args.parent, age_7_or_over=args.age_7_or_over,
            student_own=args.student_own if args.age_7_or_over else None, by=args.by,
        ))  # fmt: skip
        print(f"consent recorded for {change.student} by {change.by}")
        return 0
    if command == "withdraw":
        change = vault.withdraw(args.student, args.by)
        print(f"consent withdrawn for {change.student}: {change.templates_deleted} templates "
              "deleted")  # fmt: skip
        return 0
    if command == "status":
        print(json.dumps(vault.summary(), indent=2, ensure_ascii=False))
        return 0
    from edge.attendance.engine import enrol
    from faces.engine import build_engine

    assert room.attendance is not None
    engine = build_engine(room.attendance.models)
    if command == "enrol":
        done = enrol(engine, vault, args.student, list(args.photos), dt.date.today())
        print(f"{done.student}: {done.templates} templates stored (of {len(args.photos)} "
              f"photos), until {done.expires}; the photos were not kept")  # fmt: skip
        return 0
    return _take(args, room, vault, folder, engine)


def _take(args: argparse.Namespace, room: RoomFile, vault: Any, folder: Path, engine: Any) -> int:
    import asyncio
    from zoneinfo import ZoneInfo

    from devices.camera.sources import FolderSource
    from edge.attendance.service import AttendanceService
    from edge.clock import SystemClock

    assert room.attendance is not None
    source = FolderSource(args.frames, width=10_000, height=10_000)
    files = len(source._files())
    events: list[tuple[str, dict[str, Any]]] = []

    class Frames:
        def want(self, on: bool) -> None:
            pass

        async def frame(self, timeout: float) -> Any:
            return source.read()

    service = AttendanceService(
        room.attendance, camera=Frames(), vault=vault,
        emit=lambda kind, **f: events.append((kind, f)), clock=SystemClock(),
        timetable=lambda: None, tz=ZoneInfo(room.timezone), data_dir=folder, engine=engine,
    )  # fmt: skip

    async def once() -> None:
        await service.execute("take", {})
        for _ in range(files):
            await service.step()
        service.finish(SystemClock().now())

    asyncio.run(once())
    vault.take_history()  # nothing of an offline take is reported
    for kind, fields in events:
        if kind in ("attendance", "attendance_summary", "attendance_headcount"):
            print(json.dumps({"kind": kind, **fields["data"]}, ensure_ascii=False))
    return 0


def _cards(args: argparse.Namespace) -> int:
    from edge.attendance import cards

    if args.new_key is not None:
        public = args.new_key.with_suffix(".pub")
        cards.new_key_pair(args.new_key, public)
        print(f"private key {args.new_key} (keep it with IT), public key {public} (for the Pis)")
        return 0
    if args.key is None or args.class_id is None:
        return _fail("cards: --class and --key are needed (or --new-key FILE)")
    students: list[str] = []
    if args.students:
        students = [s.strip() for s in args.students.split(",") if s.strip()]
    elif args.config is not None:
        try:
            room = load_room_config(args.config)
        except ConfigError as exc:
            return _fail(str(exc))
        students = list(room.attendance.students) if room.attendance else []
    if not students:
        return _fail("cards: no students (--students or a --config with a roster)")
    try:
        key = cards.load_private_key(args.key)
    except (OSError, ValueError) as exc:
        return _fail(f"cards: {args.key}: {exc}")
    today = dt.date.today()
    expires = args.expires or dt.date(today.year + (today.month > 5), 5, 31)
    tokens = [
        (s, cards.issue(key, cards.Card(s, args.first_serial + i, args.class_id, expires)))
        for i, s in enumerate(students)
    ]
    import cv2

    page = cards.sheet([(f"{s}  #{args.first_serial + i}", t) for i, (s, t) in enumerate(tokens)])
    if args.out.suffix.lower() != ".png":
        return _fail(f"cards: {args.out}: the sheet is a PNG (name it .png)")
    if not cv2.imwrite(str(args.out), page):
        return _fail(f"cards: {args.out} cannot be written")
    last = args.first_serial + len(tokens) - 1
    print(f"{len(tokens)} cards of class {args.class_id} in {args.out} "
          f"(serials {args.first_serial}-{last}, until {expires})")  # fmt: skip
    return 0


__all__ = ["add_parser", "run"]
