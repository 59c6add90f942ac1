"""The TUI's screens: the main screen and its dialogs (help, inject, go to, conditional break, prompts)."""
