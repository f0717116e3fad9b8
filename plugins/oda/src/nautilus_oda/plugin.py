"""Entry point of the nautilus-oda plugin (group ``nautilus``, name ``oda``).

The ODA Component reconciler and the ``nautilus oda`` commands are not built yet; until they are,
this plugin loads and implements no hook (``nautilus plugins`` shows it with an empty hook list).
"""
