"""Attendance by the classroom camera: faces recognised on the Pi, QR cards, headcounts."""
