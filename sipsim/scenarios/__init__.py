"""Shipped simulation scenarios (TOML), shared by ``sipsim simulate``, the TUI and the lessons.

Load one with :func:`sipsim.engine.scenario.load_scenario` (``load_scenario("basic-call")``);
:func:`sipsim.engine.scenario.list_scenarios` lists them with their descriptions. The format is
documented in ``sipsim/engine/scenario.py``.
"""
