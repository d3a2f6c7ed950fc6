"""Boot profile validation: config.txt syntax, known keys and overlays, pins against a room."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import RoomFile, parse_room_config
from smartclass.bootconfig import BootProblem, BootProfile, check_room, parse_boot_config
from smartclass.cli import main

BOOT = Path("boot.txt")


def parse(text: str) -> BootProfile:
    return parse_boot_config(text, BOOT)


def only_error(profile: BootProfile) -> BootProblem:
    assert len(profile.errors) == 1, profile.problems
    return profile.errors[0]


def room(devices: str) -> RoomFile:
    return parse_room_config(f"site: s\nroom: r\ndevices:\n{devices}", Path("room.yaml"))


I2C_ROOM = """\
  env: {family: environment, backend: i2c, co2: {chip: scd4x}}
"""


def test_a_clean_profile_lists_settings_parameters_overlays_and_pins() -> None:
    profile = parse(
        "# comment\n[all]\ndtparam=i2c_arm=on\ndtparam=i2c_arm_baudrate=100000\n"
        "enable_uart=1\ncamera_auto_detect=1\ndtoverlay=w1-gpio\ninclude extra.txt\n"
    )
    assert profile.problems == []
    assert profile.is_on("i2c_arm")
    assert profile.settings["enable_uart"] == ("1", 5)
    assert profile.overlays == [("w1-gpio", 7)]
    assert {c.pin: c.owner for c in profile.claims} == {
        2: "dtparam=i2c_arm",
        3: "dtparam=i2c_arm",
        14: "enable_uart",
        15: "enable_uart",
        4: "dtoverlay=w1-gpio",
    }


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("enable_uart=1 # console\n", "enable_uart", "no end-of-line comments"),
        ("enable_uart = 1\n", "enable_uart", "no spaces around '='"),
        ("kernel='k.img'\n", "kernel", "no quotes"),
        ("enable_uart=yes\n", "enable_uart", "takes 0 or 1"),
        ("enabel_uart=1\n", "enabel_uart", "did you mean 'enable_uart'"),
        ("[pi9]\n", "[pi9]", "unknown section filter"),
        ("dtoverlay=w1-gpoi\n", "dtoverlay=w1-gpoi", "did you mean 'w1-gpio'"),
        ("dtoverlay=w1-gpio,gpiopin=40\n", "dtoverlay=w1-gpio,gpiopin", "GPIO number 0..27"),
        ("dtoverlay=w1-gpio,speed=3\n", "dtoverlay=w1-gpio,speed", "known: gpiopin, pullup"),
        ("dtparam=i2c_arm=maybe\n", "dtparam=i2c_arm", "on or off"),
        ("dtparam=i2c_arm_baudrate=fast\n", "dtparam=i2c_arm_baudrate", "a number"),
        ("dtparam=i2c_rm=on\n", "dtparam=i2c_rm", "did you mean"),
        ("gpio=17\n", "gpio", "gpio=PINS=SETTINGS"),
    ],
)
def test_a_bad_line_is_reported_with_its_line_and_key(text: str, key: str, message: str) -> None:
    error = only_error(parse(f"[all]\n{text}"))
    assert (error.line, error.key) == (2, key)
    assert message in error.message
    assert str(error).startswith(f"boot.txt:2: {key}: ")


def test_an_overlay_parameter_may_follow_on_a_dtparam_line() -> None:
    profile = parse("dtoverlay=w1-gpio\ndtparam=gpiopin=17\n")
    assert profile.problems == []
    assert [(c.pin, c.line) for c in profile.claims] == [(17, 1)]


def test_a_base_parameter_after_an_overlay_is_a_warning_until_the_scope_ends() -> None:
    late = parse("dtoverlay=w1-gpio\ndtparam=i2c_arm=on\n")
    assert not late.errors
    assert [(p.line, p.severity) for p in late.problems] == [(2, "warning")]
    assert late.is_on("i2c_arm")  # the firmware still gives it to the base tree
    assert parse("dtoverlay=w1-gpio\ndtoverlay=\ndtparam=i2c_arm=on\n").problems == []


def test_a_plain_key_set_twice_in_one_section_warns() -> None:
    profile = parse("enable_uart=0\nenable_uart=1\n[pi5]\nenable_uart=1\n")
    assert [(p.line, p.severity) for p in profile.problems] == [(2, "warning")]


def test_two_interfaces_on_one_pin_conflict_but_one_bus_shares_its_pins() -> None:
    shutdown = only_error(parse("dtparam=i2c_arm=on\ndtoverlay=gpio-shutdown\n"))
    assert (shutdown.line, shutdown.key) == (2, "dtoverlay=gpio-shutdown")
    assert "GPIO3 (shutdown button) is already taken by dtparam=i2c_arm" in shutdown.message
    shared = parse("dtparam=i2s=on\ndtoverlay=adau7002-simple\ndtoverlay=i2c-rtc,ds3231\n")
    assert shared.problems == []


def test_a_none_section_takes_no_pins() -> None:
    profile = parse("[none]\ndtoverlay=w1-gpio\ndtparam=spi=on\n[all]\n")
    assert profile.problems == []
    assert profile.claims == []


def test_a_room_reading_i2c_bus_1_needs_i2c_arm() -> None:
    [problem] = check_room(parse("enable_uart=1\n"), room(I2C_ROOM), Path("6a1.yaml"))
    assert problem.key == "dtparam=i2c_arm"
    assert "6a1.yaml devices.env reads I2C bus 1: add dtparam=i2c_arm=on" in problem.message
    [off] = check_room(parse("dtparam=i2c_arm=off\n"), room(I2C_ROOM), Path("6a1.yaml"))
    assert off.line == 1
    assert check_room(parse("dtparam=i2c=on\n"), room(I2C_ROOM), Path("6a1.yaml")) == []


@pytest.mark.parametrize(
    ("boot", "line", "owner", "pin"),
    [
        ("dtoverlay=w1-gpio\n", 1, "dtoverlay=w1-gpio", 4),
        ("dtoverlay=w1-gpio,gpiopin=17\n", 1, "dtoverlay=w1-gpio", 17),
        ("dtparam=i2s=on\n", 1, "dtparam=i2s", 18),
        ("enable_uart=1\n", 1, "enable_uart", 14),
        ("gpio=12-13=op,dl\n", 1, "gpio=12-13", 12),
    ],
)
def test_a_room_pin_taken_by_the_profile_is_a_conflict(
    boot: str, line: int, owner: str, pin: int
) -> None:
    devices = f"""\
  lights: {{family: lighting, backend: gpio, zones: {{front: {{kind: dimmer, pin: {pin}}}}}}}
"""
    [problem] = check_room(parse(boot), room(devices), Path("6a1.yaml"))
    assert (problem.line, problem.key) == (line, owner)
    assert f"GPIO{pin}" in problem.message
    assert "6a1.yaml devices.lights.zones.front.pin" in problem.message


def test_a_pir_pin_is_checked_too() -> None:
    devices = "  presence: {family: occupancy, backend: gpio, pin: 4}\n"
    [problem] = check_room(parse("dtoverlay=w1-gpio\n"), room(devices), Path("6a1.yaml"))
    assert "devices.presence.pin" in problem.message


def test_validate_checks_boot_files_against_the_rooms_given_with_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    room_file = tmp_path / "6a1.yaml"
    room_file.write_text(
        "site: s\nroom: r\ndevices:\n"
        "  presence: {family: occupancy, backend: gpio, pin: 4}\n" + I2C_ROOM
    )
    boot = tmp_path / "pi.txt"
    boot.write_text("dtparam=i2c_arm=on\ndtoverlay=w1-gpio\n")
    assert main(["validate", str(boot)]) == 0
    assert f"{boot}: ok (boot profile: 3 GPIO pins taken)" in capsys.readouterr().out
    assert main(["validate", str(boot), str(room_file)]) == 2
    err = capsys.readouterr().err
    assert f"{boot}:2: dtoverlay=w1-gpio: GPIO4 (1-Wire data) is also 6a1.yaml" in err
    boot.write_text("dtparam=i2c_arm=on\ndtoverlay=w1-gpio,gpiopin=22\ndtoverlay=i2c-rtc\n")
    assert main(["validate", str(boot), str(room_file)]) == 0
    assert "checked against 6a1.yaml" in capsys.readouterr().out


def test_validate_reports_warnings_without_failing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boot = tmp_path / "pi.txt"
    boot.write_text("dtoverlay=w1-gpio\ndtparam=i2c_arm=on\n")
    assert main(["validate", str(boot)]) == 0
    assert f"{boot}:2: warning: dtparam=i2c_arm: follows dtoverlay=w1-gpio" in (
        capsys.readouterr().err
    )


def test_an_unreadable_boot_file_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "missing.txt")]) == 2
    assert "cannot read boot profile" in capsys.readouterr().err
