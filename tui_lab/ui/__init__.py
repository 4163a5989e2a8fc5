"""The Textual face of dllab: screens and widgets only; all computation lives in the core."""
