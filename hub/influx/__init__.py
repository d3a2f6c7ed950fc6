"""Export to InfluxDB: the schema as line protocol, and the exporter that writes it.

The exporter itself is ``hub.influx.exporter.InfluxExporter``, imported only where it is
used, so that a hub without the export never loads influxdb-client.
"""

from hub.influx.config import InfluxConfig
from hub.influx.lines import MEASUREMENTS, PRECISION, lines_of
from hub.influx.stats import InfluxStats

__all__ = ["MEASUREMENTS", "PRECISION", "InfluxConfig", "InfluxStats", "lines_of"]
