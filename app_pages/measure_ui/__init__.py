"""The parts of the Measure page: each module is a few ``*_ui()`` functions
that read widgets and drive the operator's :class:`~objlen.workbench.Workbench`;
the Batch page shares :mod:`app_pages.measure_ui.options`."""
