"""Raspberry Pi config.txt as smartclass knows it: keys, base parameters, overlays, their pins."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["bool", "int", "text"]


@dataclass(frozen=True)
class KeySpec:
    """A config.txt setting: the kind of its value and what it does."""

    kind: Kind
    meaning: str


@dataclass(frozen=True)
class ParamSpec:
    """A base device-tree parameter (``dtparam=``), and the header pins it takes when on."""

    kind: Kind
    meaning: str
    pins: dict[int, str] = field(default_factory=dict)
    bus: str | None = None
    """Claims of the same bus share their pins (the I2C bus, I2S)."""


@dataclass(frozen=True)
class OverlaySpec:
    """A device-tree overlay (``dtoverlay=``): its fixed pins, pin parameters and parameters."""

    meaning: str
    pins: dict[int, str] = field(default_factory=dict)
    pin_params: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Parameter name to (default GPIO, what the pin is)."""
    params: frozenset[str] | None = frozenset()
    """Parameters it takes besides the pin ones; None: not checked."""
    bus: str | None = None


KEYS: dict[str, KeySpec] = {
    "arm_64bit": KeySpec("bool", "boot the 64-bit kernel"),
    "arm_boost": KeySpec("bool", "Pi 4: the higher CPU clock the board allows"),
    "arm_freq": KeySpec("int", "CPU clock, MHz"),
    "auto_initramfs": KeySpec("bool", "load the initramfs that matches the kernel"),
    "boot_delay": KeySpec("int", "seconds to wait before loading the kernel"),
    "camera_auto_detect": KeySpec("bool", "load the overlay of the camera on the CSI port"),
    "disable_fw_kms_setup": KeySpec("bool", "leave display modes to the KMS driver"),
    "disable_overscan": KeySpec("bool", "no black border on HDMI"),
    "disable_splash": KeySpec("bool", "no rainbow screen at boot"),
    "display_auto_detect": KeySpec("bool", "load the overlay of a DSI display found"),
    "dtdebug": KeySpec("bool", "log overlay loading (read it with 'sudo vclog --msg')"),
    "dtoverlay": KeySpec("text", "load a device-tree overlay: NAME[,PARAM=VALUE...]"),
    "dtparam": KeySpec("text", "set parameters of the base tree, or of the overlay just loaded"),
    "enable_uart": KeySpec("bool", "serial console on GPIO14 (TXD) and GPIO15 (RXD)"),
    "force_turbo": KeySpec("bool", "run at full clock all the time"),
    "gpio": KeySpec("text", "set pins at boot, e.g. gpio=17=op,dl"),
    "gpu_mem": KeySpec("int", "memory for the GPU, MB (legacy camera stack only)"),
    "hdmi_blanking": KeySpec("int", "let HDMI screens sleep"),
    "hdmi_drive": KeySpec("int", "1: DVI, 2: HDMI with sound"),
    "hdmi_force_hotplug": KeySpec("bool", "use HDMI even when no screen is detected"),
    "hdmi_group": KeySpec("int", "HDMI mode group (1: CEA, 2: DMT)"),
    "hdmi_mode": KeySpec("int", "HDMI mode within its group"),
    "kernel": KeySpec("text", "kernel image file"),
    "max_framebuffers": KeySpec("int", "how many displays the firmware sets up"),
    "otg_mode": KeySpec("bool", "USB host mode on the Compute Module 4"),
    "over_voltage": KeySpec("int", "CPU voltage step (overclocking)"),
    "temp_limit": KeySpec("int", "temperature at which the firmware throttles, degrees C"),
    "uart_2ndstage": KeySpec("bool", "bootloader messages on the UART"),
    "usb_max_current_enable": KeySpec("bool", "Pi 5: full USB current without a 5 A supply"),
}
"""The config.txt keys this project's profiles use or an IT person commonly adds."""

SPACE_KEYS = {"include": "read another file of the boot partition here", "initramfs": "initramfs"}
"""Directives written ``NAME VALUE`` rather than ``key=value``."""

REPEATABLE = frozenset({"dtoverlay", "dtparam", "gpio"})

_I2C1 = {2: "I2C bus 1 SDA", 3: "I2C bus 1 SCL"}
_I2S = {18: "I2S BCLK", 19: "I2S LRCLK", 20: "I2S data in", 21: "I2S data out"}
UART_PINS = {14: "UART TXD", 15: "UART RXD"}

BASE_PARAMS: dict[str, ParamSpec] = {
    "audio": ParamSpec("bool", "the on-board audio (3.5 mm jack, HDMI)"),
    "i2c_arm": ParamSpec("bool", "I2C bus 1 (/dev/i2c-1) on GPIO2 and GPIO3", _I2C1, "i2c1"),
    "i2c": ParamSpec("bool", "another name of i2c_arm", _I2C1, "i2c1"),
    "i2c_arm_baudrate": ParamSpec("int", "I2C bus 1 clock, Hz (100000 by default)"),
    "i2c_baudrate": ParamSpec("int", "another name of i2c_arm_baudrate"),
    "i2c_vc": ParamSpec(
        "bool", "I2C bus 0 on GPIO0 and GPIO1 (HAT EEPROM)", {0: "ID_SD", 1: "ID_SC"}, "i2c0"
    ),
    "i2c_vc_baudrate": ParamSpec("int", "I2C bus 0 clock, Hz"),
    "i2s": ParamSpec("bool", "I2S audio on GPIO18-21", _I2S, "i2s"),
    "spi": ParamSpec(
        "bool", "SPI0 on GPIO7-11", {7: "SPI CE1", 8: "SPI CE0", 9: "MISO", 10: "MOSI", 11: "SCLK"}
    ),
    "uart0": ParamSpec("bool", "UART0 (on the Pi 5: on GPIO14 and GPIO15)", UART_PINS, "uart0"),
    "uart0_console": ParamSpec(
        "bool",
        "Pi 5: the console on UART0 (GPIO14/15) instead of the debug connector",
        UART_PINS,
        "uart0",
    ),
    "watchdog": ParamSpec("bool", "the hardware watchdog"),
    "act_led_trigger": ParamSpec("text", "what the green LED shows (e.g. heartbeat)"),
    "act_led_activelow": ParamSpec("bool", "invert the green LED"),
    "pwr_led_trigger": ParamSpec("text", "what the red LED shows"),
    "pwr_led_activelow": ParamSpec("bool", "invert the red LED"),
    "pciex1": ParamSpec("bool", "Pi 5: the PCIe connector (NVMe HAT)"),
    "pciex1_gen": ParamSpec("int", "Pi 5: PCIe generation (2 or 3)"),
    "random": ParamSpec("bool", "the hardware random number generator"),
}
"""Base device-tree parameters, with the pins they take when on."""

_ANY = None
OVERLAYS: dict[str, OverlaySpec] = {
    "adau7002-simple": OverlaySpec(
        "capture-only I2S card for a MEMS microphone", _I2S, {}, frozenset({"card-name"}), "i2s"
    ),
    "googlevoicehat-soundcard": OverlaySpec(
        "Google voiceHAT / I2S microphone card", _I2S, bus="i2s"
    ),
    "i2s-mmap": OverlaySpec("mmap access to the I2S driver, for capture programs that need it"),
    "w1-gpio": OverlaySpec(
        "1-Wire bus (DS18B20 probes)", {}, {"gpiopin": (4, "1-Wire data")}, frozenset({"pullup"})
    ),
    "w1-gpio-pullup": OverlaySpec(
        "1-Wire bus with a GPIO-driven pull-up",
        {},
        {"gpiopin": (4, "1-Wire data"), "extpullup": (5, "1-Wire pull-up")},
        frozenset({"pullup"}),
    ),
    "pwm": OverlaySpec(
        "hardware PWM channel", {}, {"pin": (18, "PWM output")}, frozenset({"func", "clock"})
    ),
    "pwm-2chan": OverlaySpec(
        "two hardware PWM channels",
        {},
        {"pin": (18, "PWM output 0"), "pin2": (19, "PWM output 1")},
        frozenset({"func", "func2", "clock"}),
    ),
    "gpio-shutdown": OverlaySpec(
        "shutdown button",
        {},
        {"gpio_pin": (3, "shutdown button")},
        frozenset({"active_low", "gpio_pull", "debounce"}),
    ),
    "gpio-poweroff": OverlaySpec(
        "power-off signal",
        {},
        {"gpiopin": (26, "power-off signal")},
        frozenset({"active_low", "input", "export", "timeout_ms"}),
    ),
    "i2c-rtc": OverlaySpec("real-time clock on I2C bus 1", _I2C1, params=_ANY, bus="i2c1"),
    "i2c-gpio": OverlaySpec(
        "software I2C bus on two GPIOs",
        {},
        {"i2c_gpio_sda": (23, "soft I2C SDA"), "i2c_gpio_scl": (24, "soft I2C SCL")},
        frozenset({"i2c_gpio_delay_us", "bus"}),
    ),
    "uart2": OverlaySpec("Pi 4: UART2 on GPIO0/1", {0: "UART2 TXD", 1: "UART2 RXD"}, params=_ANY),
    "uart3": OverlaySpec("Pi 4: UART3 on GPIO4/5", {4: "UART3 TXD", 5: "UART3 RXD"}, params=_ANY),
    "uart4": OverlaySpec("Pi 4: UART4 on GPIO8/9", {8: "UART4 TXD", 9: "UART4 RXD"}, params=_ANY),
    "uart5": OverlaySpec(
        "Pi 4: UART5 on GPIO12/13", {12: "UART5 TXD", 13: "UART5 RXD"}, params=_ANY
    ),
    "disable-bt": OverlaySpec("Bluetooth off; the full UART serves GPIO14/15"),
    "miniuart-bt": OverlaySpec("Bluetooth on the mini UART; the full UART serves GPIO14/15"),
    "disable-wifi": OverlaySpec("Wi-Fi off (wired rooms)"),
    "vc4-kms-v3d": OverlaySpec("the KMS display and 3D driver", params=_ANY),
    "dwc2": OverlaySpec("USB OTG controller", params=_ANY),
    "rpi-poe": OverlaySpec("PoE HAT fan", params=_ANY),
    "rpi-poe-plus": OverlaySpec("PoE+ HAT fan", params=_ANY),
    "imx219": OverlaySpec("Camera Module 2, with camera_auto_detect=0", params=_ANY),
    "imx477": OverlaySpec("HQ Camera, with camera_auto_detect=0", params=_ANY),
    "imx708": OverlaySpec("Camera Module 3, with camera_auto_detect=0", params=_ANY),
    "ov5647": OverlaySpec("Camera Module 1, with camera_auto_detect=0", params=_ANY),
}
"""Overlays for the project's hardware, and common ones, with the header pins they take."""

SECTION_FILTER = (
    r"all|none|pi0|pi0w|pi02|pi1|pi2|pi3|pi3\+|pi4|pi400|pi5|pi500|cm4|cm4s|cm5|tryboot"
    r"|HDMI:[01]|EDID=\S+|gpio\d{1,2}=[01]|board-type=0x[0-9a-fA-F]+|0x[0-9a-fA-F]{8}"
)
"""Conditional filters a ``[section]`` line may hold."""

TRUE = frozenset({"on", "true", "yes", "y", "1", "okay"})
FALSE = frozenset({"off", "false", "no", "n", "0", "disabled"})


__all__ = [
    "BASE_PARAMS",
    "FALSE",
    "KEYS",
    "OVERLAYS",
    "REPEATABLE",
    "SECTION_FILTER",
    "SPACE_KEYS",
    "TRUE",
    "UART_PINS",
    "Kind",
    "KeySpec",
    "OverlaySpec",
    "ParamSpec",
]
