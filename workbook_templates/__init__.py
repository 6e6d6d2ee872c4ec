"""Example plans shipped with xlplan (installed as ``xlplan.templates``)."""
