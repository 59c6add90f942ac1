"""The step-through TUI (Textual): watch workers sleep and wake, and every receive_msg step.

Entry point: :func:`sipsim.tui.app.run_tui`. Importing this package imports nothing heavy.
"""
