"""Alerts of the hub: raised from what reaches it, acknowledged and resolved by IT, notified.

``kinds`` (what and how grave), ``rules`` (a room's state to its conditions), ``tables`` and
``store`` (the database), ``engine`` (the life cycle), ``service`` (the running hub's part:
fed by the ingest, off the event loop), ``webhook`` and ``room_help`` (who is told), ``views``
(the JSON shapes). See docs/design.md, "Alerts".
"""
