"""The browser face: `dllab serve` serves the same Textual app through textual-serve."""
