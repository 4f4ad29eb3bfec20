"""Assignments: a supervisor asks a named officer to reach a group by a date (issue 12 item 4),
and an officer asks themself to request a warm introduction (item 5)."""
