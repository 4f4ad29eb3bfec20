def register(group):
    """CSV import/export commands (filled in by crm.csvio)."""
