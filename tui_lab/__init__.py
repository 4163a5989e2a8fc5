"""dllab: a deep-learning learning lab in the terminal.

The core modules (data, models, training, runs, conv_steps, shapes, compare, ...) are plain
Python + torch and never import Textual; `tui_lab.ui` (the Textual app) and `tui_lab.cli`
(the typer CLI) are two faces over that core.
"""

__version__ = "0.1.0"
