"""Beat hand-overs: the relationships an officer built, carried to whoever takes the beat (issue 15)."""
