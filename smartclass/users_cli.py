"""``smartclass hub users``: people of the hub, on the hub's own database.

The first user is made here (there is no default account): ``smartclass hub users add
ANNA --role it --site thcs-nguyen-chi-thanh`` prints a generated password once. The
database is the hub's (``SMARTCLASS_HUB_DATABASE_URL``, or ``--database-url``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hub.access import Role, parse_room_ref
from hub.users import PASSWORD_MIN, UserError, Users, UserView, generate_password

USERS_EPILOG = """\
examples:
  smartclass hub users add lan --role it --site thcs-nguyen-chi-thanh
  smartclass hub users add thu --role teacher --room thcs-nguyen-chi-thanh/6a1
  smartclass hub users add binh --role admin --site thcs-nguyen-chi-thanh --ask
  smartclass hub users add so-gd --role district
  smartclass hub users list
  smartclass hub users reset thu             a new generated password, printed once
  smartclass hub users disable thu           sessions end at once; tokens stop working
  smartclass hub users token lan --name nightly-report
"""


def add_parsers(hub: argparse.ArgumentParser) -> None:
    sub = hub.add_subparsers(dest="hub_command", metavar="SUBCOMMAND")
    users = sub.add_parser(
        "users",
        help="add, list, disable and reset the hub's users",
        description="Manage the people who use the hub: teachers (their rooms), IT staff and "
        "school admins (their schools) and district staff (every school, read-only). "
        "Passwords are stored as argon2id hashes; a generated one is printed once.",
        epilog=USERS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    users.add_argument(
        "--database-url", help="the hub's database (default: SMARTCLASS_HUB_DATABASE_URL)"
    )
    verbs = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    add = verbs.add_parser("add", help="make a user (prints a generated password once)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    _reach_args(add)
    add.add_argument("--display-name", default="", help="the name shown on the pages")
    _password_args(add)

    verbs.add_parser("list", help="every user with role, reach and state")

    for verb, text in (("disable", "stop a user signing in"), ("enable", "let them again")):
        p = verbs.add_parser(verb, help=text)
        p.add_argument("username")

    reset = verbs.add_parser("reset", help="a new password (their sessions end)")
    reset.add_argument("username")
    _password_args(reset)

    assign = verbs.add_parser("assign", help="set a user's schools or rooms")
    assign.add_argument("username")
    _reach_args(assign)

    token = verbs.add_parser("token", help="an API token for a script (printed once)")
    token.add_argument("username")
    token.add_argument("--name", required=True, help="what the token is for")
    token.add_argument("--days", type=int, help="days it lives (default: until revoked)")


def _reach_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--site", action="append", default=[], metavar="SITE", help="a school (it, admin)"
    )
    p.add_argument(
        "--room",
        action="append",
        default=[],
        metavar="SITE/ROOM",
        help="a room (teacher); repeat for several",
    )


def _password_args(p: argparse.ArgumentParser) -> None:
    how = p.add_mutually_exclusive_group()
    how.add_argument("--ask", action="store_true", help="type the password (asked twice)")
    how.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """(password, generated)."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    if args.ask:
        first = getpass.getpass(f"password (at least {PASSWORD_MIN} characters): ")
        if getpass.getpass("again: ") != first:
            raise UserError("the two passwords differ")
        return first, False
    return generate_password(), True


def _rooms(values: list[str]) -> list[tuple[str, str]]:
    try:
        return [parse_room_ref(v) for v in values]
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _describe(user: UserView) -> str:
    reach = ", ".join(user.sites) or ", ".join(f"{s}/{r}" for s, r in user.rooms)
    if user.role is Role.DISTRICT:
        reach = "every school"
    state = "disabled" if user.disabled else "active"
    last = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never"
    return f"{user.username:<20} {user.role.value:<9} {state:<9} {last:<17} {reach or '-'}"


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from hub.db import create_schema, make_engine
    from hub.settings import HubSettings

    settings = HubSettings()
    url = args.database_url or settings.database_url
    engine = make_engine(url)
    try:
        create_schema(engine)
        users = Users(
            engine,
            argon2_time_cost=settings.argon2_time_cost,
            argon2_memory_kib=settings.argon2_memory_kib,
        )
        return _ACTIONS[args.users_command](users, args)
    except UserError as exc:
        print(f"smartclass hub users: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"smartclass hub users: the database {url!r} failed: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def _add(users: Users, args: argparse.Namespace) -> int:
    password, generated = _password(args)
    user = users.add(
        args.username,
        Role(args.role),
        password,
        sites=args.site,
        rooms=_rooms(args.room),
        display_name=args.display_name,
    )
    print(f"added {_describe(user)}")
    if generated:
        print(f"password for {user.username}: {password}")
        print("(shown once: give it to them; they can change it, IT can reset it)")
    return 0


def _list(users: Users, _args: argparse.Namespace) -> int:
    found = users.all()
    if not found:
        print("no users yet: add the first with 'smartclass hub users add NAME --role it --site S'")
        return 0
    print(f"{'user':<20} {'role':<9} {'state':<9} {'last sign-in':<17} reach")
    for user in found:
        print(_describe(user))
    return 0


def _set_disabled(disabled: bool) -> Callable[[Users, argparse.Namespace], int]:
    def action(users: Users, args: argparse.Namespace) -> int:
        user = users.set_disabled(args.username, disabled)
        print(f"{'disabled' if disabled else 'enabled'} {user.username}")
        return 0

    return action


def _reset(users: Users, args: argparse.Namespace) -> int:
    password, generated = _password(args)
    users.set_password(args.username, password)
    print(f"new password set for {args.username}; their sessions have ended")
    if generated:
        print(f"password for {args.username}: {password}")
    return 0


def _assign(users: Users, args: argparse.Namespace) -> int:
    user = users.set_reach(args.username, sites=args.site, rooms=_rooms(args.room))
    print(f"reach of {_describe(user)}")
    return 0


def _token(users: Users, args: argparse.Namespace) -> int:
    user = users.by_name(args.username)
    if user is None:
        raise UserError(f"no user named {args.username!r}")
    expires = timedelta(days=args.days) if args.days else None
    view, secret = users.create_token(user.id, args.name, expires_in=expires)
    print(f"token {view.id} ({view.name}) for {user.username}: {secret}")
    print("(shown once: send it as 'Authorization: Bearer <token>')")
    return 0


_ACTIONS: dict[str, Callable[[Users, Any], int]] = {
    "add": _add,
    "list": _list,
    "disable": _set_disabled(True),
    "enable": _set_disabled(False),
    "reset": _reset,
    "assign": _assign,
    "token": _token,
}

__all__ = ["add_parsers", "run"]
