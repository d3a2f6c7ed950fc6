"""Export to InfluxDB: the schema as line protocol, and the exporter that writes it."""

from hub.influx.exporter import InfluxConfig, InfluxExporter
from hub.influx.lines import MEASUREMENTS, PRECISION, lines_of
from hub.influx.stats import InfluxStats

__all__ = ["MEASUREMENTS", "PRECISION", "InfluxConfig", "InfluxExporter", "InfluxStats", "lines_of"]
