"""Face detection and recognition, shared by the room's attendance camera and the hub's
enrolment: one engine, so a template made at the hub matches a face seen in the room."""
