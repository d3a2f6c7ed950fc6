"""The classroom agent: room config, MQTT link, durable outbox and command dispatch."""
