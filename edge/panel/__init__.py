"""The teacher's tablet panel, served by the room's agent on the room's network.

A small web app (``app``) run by uvicorn inside the agent's own event loop (``server``), so
it works whatever happens to the hub or the broker: taps go to the devices through the
agent's dispatch, the page follows the devices' confirmed states over a live stream, and a
tablet sees the room only once IT has paired it (``pairing``). See docs/panel.md.

This module imports nothing heavy: the agent's help panel device uses ``pairing`` alone.
"""
