"""The words the dashboard shows for the hub's codes (problems, alert kinds, states, device
families), marked for translation; templates translate them when shown, and a code without a
label is shown as it is."""

from __future__ import annotations

from typing import Final

from ui.i18n import N_

__all__ = ["LABELS", "UNITS"]

LABELS: Final[dict[str, dict[str, str]]] = {
    "problem": {
        "offline": N_("Offline"),
        "config_refused": N_("Configuration refused"),
        "storage_fault": N_("Storage fault"),
        "device_unavailable": N_("Device unavailable"),
        "device_fault": N_("Device fault"),
        "dropped": N_("Messages dropped"),
        "gaps": N_("Messages missing"),
        "clock_offset": N_("Clock is off"),
        "backlog": N_("Outbox backlog"),
        "parked": N_("Messages parked"),
        "config_pending": N_("Configuration not applied yet"),
        "lamp_hours": N_("Lamp hours high"),
    },
    "kind": {
        "agent_offline": N_("Room offline"),
        "device_unavailable": N_("Device unavailable"),
        "lamp_due": N_("Projector lamp due"),
        "filter_due": N_("Projector filter due"),
        "projector_error": N_("Projector error"),
        "sensor_fault": N_("Sensor fault"),
        "co2_high": N_("CO₂ high"),
        "outbox_dropped": N_("The room dropped messages"),
        "messages_missing": N_("Messages missing"),
        "help": N_("Help request"),
        "card_refused": N_("Attendance card refused"),
    },
    "help_topic": {  # protocol.help.HELP_TOPICS, as the panel names them
        "projector": N_("Projector"),
        "sound": N_("Sound"),
        "network": N_("Network"),
        "other": N_("Something else"),
    },
    "consent": {  # protocol.attendance.ConsentState
        "recorded": N_("Consent recorded"),
        "withdrawn": N_("Consent withdrawn"),
        "expired": N_("Consent expired"),
    },
    "method": {  # protocol.attendance.Method
        "face": N_("Face recognition"),
        "qr": N_("QR card"),
        "headcount": N_("Headcount only"),
        "manual": N_("Marked by hand"),
    },
    "source": {
        "hub": N_("Recorded through the hub"),
        "agent": N_("Reported by the room"),
    },
    "state": {
        "open": N_("Open"),
        "acknowledged": N_("Acknowledged"),
        "resolved": N_("Resolved"),
        "ended": N_("Ended"),
    },
    "severity": {
        "info": N_("Information"),
        "warning": N_("Warning"),
        "critical": N_("Critical"),
    },
    "family": {
        "lighting": N_("Lights"),
        "projector": N_("Projector"),
        "environment": N_("Air"),
        "noise": N_("Noise"),
        "occupancy": N_("Presence"),
        "panel": N_("Help panel"),
    },
    "power": {
        "on": N_("On"),
        "off": N_("Off"),
        "warming": N_("Warming up"),
        "cooling": N_("Cooling down"),
        "unavailable": N_("Unavailable"),
    },
    "scene": {
        "lesson": N_("Lesson"),
        "projection": N_("Projection"),
        "off": N_("All off"),
        "reading": N_("Reading"),
    },
    "zone": {
        "front": N_("Front"),
        "middle": N_("Middle"),
        "back": N_("Back"),
    },
    "metric": {
        "co2_ppm": N_("CO₂"),
        "temperature_c": N_("Temperature"),
        "humidity_pct": N_("Humidity"),
        "light_lux": N_("Light"),
        "noise_dba": N_("Noise level"),
    },
    "role": {
        "teacher": N_("Teacher"),
        "it": N_("IT staff"),
        "admin": N_("School admin"),
        "district": N_("District"),
    },
    "request": {
        "none": N_("No request"),
        "requested": N_("Sent, not yet at the hub"),
        "open": N_("Waiting for IT"),
        "acknowledged": N_("IT has seen it"),
    },
    "cause": {
        "room": N_("Room overrides"),
        "school": N_("School defaults"),
        "new room": N_("New room"),
    },
}
"""Kind of code → code → its words (English, the msgid; never a ``%``: templates format
every message)."""
UNITS: Final[dict[str, str]] = {
    "co2_ppm": "ppm",
    "temperature_c": "°C",
    "humidity_pct": "%",
    "light_lux": "lux",
    "noise_dba": "dBA",
}
"""The unit of each metric the pages show, the same in every language."""
