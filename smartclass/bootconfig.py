"""Validate Raspberry Pi boot profiles (config.txt fragments), alone and against room files."""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from devices.environment.config import I2cEnvironmentConfig
from devices.lighting.config import GpioLightingConfig
from devices.occupancy.config import PirOccupancyConfig
from edge.config import RoomFile
from smartclass.boot_catalogue import (
    BASE_PARAMS,
    FALSE,
    KEYS,
    OVERLAYS,
    REPEATABLE,
    SECTION_FILTER,
    SPACE_KEYS,
    TRUE,
    UART_PINS,
    Kind,
)

Severity = Literal["error", "warning"]
BOOT_SUFFIX = ".txt"
"""``smartclass validate`` treats files with this suffix as boot profiles."""

_SECTION = re.compile(rf"^\[({SECTION_FILTER})\]$")
_KEY = re.compile(r"^[a-z][a-z0-9_]*(:[0-9])?$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_+-]*$")
_PINS = re.compile(r"^\d{1,2}(-\d{1,2})?(,\d{1,2}(-\d{1,2})?)*$")


@dataclass(frozen=True)
class BootProblem:
    """Something wrong in a boot profile, at a line (None: the file as a whole) and a key."""

    path: Path
    line: int | None
    key: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f":{self.line}" if self.line is not None else ""
        label = "warning: " if self.severity == "warning" else ""
        return f"{self.path}{where}: {label}{self.key}: {self.message}"


@dataclass(frozen=True)
class PinClaim:
    """A header pin the profile gives to an interface or overlay."""

    pin: int
    owner: str
    """The setting that takes it, e.g. ``dtoverlay=w1-gpio`` or ``dtparam=i2c_arm``."""
    what: str
    line: int
    bus: str | None = None


@dataclass
class BootProfile:
    """A parsed boot profile: settings in force, pins taken, and what was found wrong."""

    path: Path
    settings: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Last value and line of each plain key (not dtoverlay, dtparam or gpio)."""
    params: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Base device-tree parameters set, with value and line."""
    overlays: list[tuple[str, int]] = field(default_factory=list)
    claims: list[PinClaim] = field(default_factory=list)
    problems: list[BootProblem] = field(default_factory=list)

    @property
    def errors(self) -> list[BootProblem]:
        return [p for p in self.problems if p.severity == "error"]

    def is_on(self, param: str) -> bool:
        value = self.params.get(param)
        return value is not None and value[0].lower() in TRUE


class BootConfigError(ValueError):
    """A boot profile that cannot be read; the message names the file."""


@dataclass
class _Overlay:
    name: str
    line: int
    params: dict[str, str] = field(default_factory=dict)
    ignored: bool = False


class _Parser:
    def __init__(self, path: Path) -> None:
        self.profile = BootProfile(path)
        self.section = "all"
        self.scope: _Overlay | None = None
        self.pending: list[_Overlay] = []
        self.seen: dict[tuple[str, str], int] = {}

    def problem(self, line: int, key: str, message: str, severity: Severity = "error") -> None:
        self.profile.problems.append(BootProblem(self.profile.path, line, key, message, severity))

    def parse(self, text: str) -> BootProfile:
        for number, raw in enumerate(text.splitlines(), 1):
            self.line(number, raw.rstrip("\r").strip())
        for overlay in self.pending:
            self.claim_overlay(overlay)
        return self.profile

    def line(self, n: int, text: str) -> None:
        if not text or text.startswith("#"):
            return
        if "#" in text:
            message = "config.txt has no end-of-line comments: put it on a line of its own"
            self.problem(n, text.split("=", 1)[0].strip(), message)
            return
        if text.startswith("["):
            if not _SECTION.match(text):
                self.problem(n, text, "unknown section filter (e.g. [all], [pi4], [pi5], [none])")
            self.section = text[1:-1]
            return
        name, _, rest = text.partition(" ")
        if name in SPACE_KEYS and rest.strip():
            return
        key, eq, value = text.partition("=")
        if not eq or not _KEY.match(key):
            self.problem(n, key.strip() or text, "expected key=value (no spaces around '=')")
        elif value != value.strip() or key != key.strip():
            self.problem(n, key.strip(), "no spaces around '=' or at the end of the value")
        elif '"' in value or "'" in value:
            self.problem(n, key, "config.txt takes no quotes around values")
        elif key == "dtoverlay":
            self.dtoverlay(n, value)
        elif key == "dtparam":
            self.dtparam(n, value)
        elif key == "gpio":
            self.gpio(n, value)
        else:
            self.setting(n, key, value)

    def setting(self, n: int, key: str, value: str) -> None:
        spec = KEYS.get(key.split(":")[0])
        if spec is None:
            self.problem(n, key, _unknown("key", key, KEYS))
            return
        if not _fits(spec.kind, value, ("0", "1")):
            self.problem(n, key, f"takes {_describe_kind(spec.kind)}, not {value!r}")
            return
        earlier = self.seen.get((self.section, key))
        if earlier is not None and key not in REPEATABLE:
            message = f"set again (first on line {earlier}); the last one wins"
            self.problem(n, key, message, "warning")
        self.seen[(self.section, key)] = n
        if self.section != "none":
            self.profile.settings[key] = (value, n)
        if key == "enable_uart" and value == "1" and self.section != "none":
            self.claim_pins(n, "enable_uart", UART_PINS, "uart0")

    def dtoverlay(self, n: int, value: str) -> None:
        name, *parts = value.split(",") if value else [""]
        if not name:
            self.scope = None  # 'dtoverlay=' ends the scope of the last overlay
            return
        if not _NAME.match(name):
            self.problem(n, f"dtoverlay={name}", "write dtoverlay=NAME,PARAM=VALUE,...")
            return
        if name not in OVERLAYS:
            self.problem(n, f"dtoverlay={name}", _unknown("overlay", name, OVERLAYS))
            self.scope = None
            return
        overlay = _Overlay(name, n, ignored=self.section == "none")
        if not overlay.ignored:  # an overlay under [none] is never loaded
            self.scope = overlay
        self.pending.append(overlay)
        self.profile.overlays.append((name, n))
        for part in parts:
            self.overlay_param(n, overlay, *_split_param(part))

    def overlay_param(self, n: int, overlay: _Overlay, param: str, value: str | None) -> None:
        spec = OVERLAYS[overlay.name]
        key = f"dtoverlay={overlay.name}"
        if param in spec.pin_params:
            if value is None or not value.isdigit() or int(value) > 27:
                self.problem(n, f"{key},{param}", f"takes a GPIO number 0..27, not {value!r}")
                return
        elif spec.params is not None and param not in spec.params:
            known = sorted(spec.params | set(spec.pin_params)) or ["none"]
            self.problem(n, f"{key},{param}", f"unknown parameter (known: {', '.join(known)})")
            return
        overlay.params[param] = value if value is not None else "on"

    def dtparam(self, n: int, value: str) -> None:
        if not value:
            self.problem(n, "dtparam", "expected dtparam=NAME=VALUE[,NAME=VALUE]")
            return
        for part in value.split(","):
            param, param_value = _split_param(part)
            scope = self.scope
            if scope is not None:
                spec = OVERLAYS[scope.name]
                known = spec.params is None or param in spec.params or param in spec.pin_params
                if known and not (spec.params is None and param in BASE_PARAMS):
                    self.overlay_param(n, scope, param, param_value)
                    continue
                if param in BASE_PARAMS:
                    message = (
                        f"follows dtoverlay={scope.name} (line {scope.line}); put base "
                        "parameters before the overlays, or after a line 'dtoverlay=' that "
                        "ends the overlay's scope"
                    )
                    self.problem(n, f"dtparam={param}", message, "warning")
            self.base_param(n, param, "on" if param_value is None else param_value)

    def base_param(self, n: int, param: str, value: str) -> None:
        spec = BASE_PARAMS.get(param)
        if spec is None:
            self.problem(n, f"dtparam={param}", _unknown("base parameter", param, BASE_PARAMS))
            return
        if not _fits(spec.kind, value, TRUE | FALSE):
            self.problem(n, f"dtparam={param}", f"takes {_describe_kind(spec.kind)}, not {value!r}")
            return
        if self.section == "none":
            return
        self.profile.params[param] = (value, n)
        if spec.pins and value.lower() in TRUE:
            self.claim_pins(n, f"dtparam={param}", spec.pins, spec.bus)

    def gpio(self, n: int, value: str) -> None:
        pins, eq, _ = value.partition("=")
        if not eq or not _PINS.match(pins):
            self.problem(n, "gpio", "write gpio=PINS=SETTINGS, e.g. gpio=17=op,dl or gpio=5-7=ip")
            return
        numbers = [
            p
            for chunk in pins.split(",")
            for a, _, b in [chunk.partition("-")]
            for p in range(int(a), int(b or a) + 1)
        ]
        if self.section != "none":
            self.claim_pins(n, f"gpio={pins}", dict.fromkeys(numbers, "set at boot"), None)

    def claim_overlay(self, overlay: _Overlay) -> None:
        if overlay.ignored:
            return
        spec = OVERLAYS[overlay.name]
        pins = dict(spec.pins)
        for param, (default, what) in spec.pin_params.items():
            pins[int(overlay.params.get(param, default))] = what
        self.claim_pins(overlay.line, f"dtoverlay={overlay.name}", pins, spec.bus)

    def claim_pins(self, n: int, owner: str, pins: dict[int, str], bus: str | None) -> None:
        for pin, what in sorted(pins.items()):
            other = next((c for c in self.profile.claims if c.pin == pin), None)
            if other is not None and (bus is None or other.bus != bus):
                taken = f"{other.owner} ({other.what}, line {other.line})"
                self.problem(n, owner, f"GPIO{pin} ({what}) is already taken by {taken}")
            self.profile.claims.append(PinClaim(pin, owner, what, n, bus))


def _split_param(part: str) -> tuple[str, str | None]:
    name, eq, value = part.partition("=")
    return name, value if eq else None


def _fits(kind: Kind, value: str, booleans: Iterable[str]) -> bool:
    if kind == "bool":
        return value.lower() in booleans
    if kind == "int":
        return re.fullmatch(r"-?\d+|0x[0-9a-fA-F]+", value) is not None
    return bool(value)


def _describe_kind(kind: Kind) -> str:
    return {"bool": "0 or 1 (dtparam: on or off)", "int": "a number", "text": "a value"}[kind]


def _unknown(what: str, name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {what}{hint} (see docs/configuration.md for the ones smartclass checks)"


def parse_boot_config(text: str, path: Path) -> BootProfile:
    """Parse a boot profile's text; problems are listed in ``profile.problems``."""
    return _Parser(path).parse(text)


def load_boot_config(path: str | Path) -> BootProfile:
    """Read and parse a boot profile; raise BootConfigError if it cannot be read."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot read boot profile: {exc}"
        raise BootConfigError(msg) from exc
    return parse_boot_config(text, path)


def room_pins(room: RoomFile) -> list[tuple[int, str]]:
    """(GPIO, key path) of every header pin the room's devices use."""
    pins: list[tuple[int, str]] = []
    for device_id, config in room.devices.items():
        if isinstance(config, GpioLightingConfig):
            for zone, zone_config in config.zones.items():
                pins.append((zone_config.pin, f"devices.{device_id}.zones.{zone}.pin"))
        elif isinstance(config, PirOccupancyConfig):
            pins.append((config.pin, f"devices.{device_id}.pin"))
    return pins


def check_room(profile: BootProfile, room: RoomFile, room_path: Path) -> list[BootProblem]:
    """What keeps ``room`` from running on a Pi booted with ``profile``."""
    problems: list[BootProblem] = []
    for device_id, config in room.devices.items():
        if not isinstance(config, I2cEnvironmentConfig):
            continue
        where = f"{room_path.name} devices.{device_id} reads I2C bus {config.bus}"
        needed = {1: "i2c_arm", 0: "i2c_vc"}.get(config.bus)
        if needed is None:
            text = f"{where}; make sure an overlay of this profile creates /dev/i2c-{config.bus}"
            problems.append(BootProblem(profile.path, None, "i2c", text, "warning"))
        elif not (profile.is_on(needed) or (needed == "i2c_arm" and profile.is_on("i2c"))):
            set_off = profile.params.get(needed)
            line = set_off[1] if set_off is not None else None
            text = f"{where}: add dtparam={needed}=on"
            problems.append(BootProblem(profile.path, line, f"dtparam={needed}", text))
    for pin, key in room_pins(room):
        for claim in (c for c in profile.claims if c.pin == pin):
            text = f"GPIO{pin} ({claim.what}) is also {room_path.name} {key}"
            problems.append(BootProblem(profile.path, claim.line, claim.owner, text))
    return problems


def validate_boot_files(paths: Sequence[Path], rooms: Sequence[tuple[Path, RoomFile]]) -> int:
    """Check each boot profile, and against each room given; print; return how many failed."""
    failed = 0
    for path in paths:
        try:
            profile = load_boot_config(path)
        except BootConfigError as exc:
            print(exc, file=sys.stderr)
            failed += 1
            continue
        problems = profile.problems + [p for rp, r in rooms for p in check_room(profile, r, rp)]
        for problem in problems:
            print(problem, file=sys.stderr)
        if any(p.severity == "error" for p in problems):
            failed += 1
            continue
        against = f", checked against {', '.join(p.name for p, _ in rooms)}" if rooms else ""
        pins = len({c.pin for c in profile.claims})
        print(f"{path}: ok (boot profile: {pins} GPIO pins taken{against})")
    return failed


__all__ = [
    "BOOT_SUFFIX",
    "BootConfigError",
    "BootProblem",
    "BootProfile",
    "PinClaim",
    "check_room",
    "load_boot_config",
    "parse_boot_config",
    "room_pins",
    "validate_boot_files",
]
