"""nautilus-oda: see plugin.py for the hooks it implements."""
