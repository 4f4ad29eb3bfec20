def register(group):
    """Demo seeding commands (filled in by crm.demo)."""
