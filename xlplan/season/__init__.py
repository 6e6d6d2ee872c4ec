"""The planning season after the workbooks go out: the audit trail, review decisions,
the units' statuses, email distribution and reminders, commitment letters."""
