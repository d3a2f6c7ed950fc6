"""What the product's web pages share: one look, one set of translations, live updates.

The teacher's panel (served by the edge agent) and the hub's dashboard and reports import
this package; it imports neither. It has no build step: templates, translations (``.po``)
and the vendored scripts are read as they are.
"""
