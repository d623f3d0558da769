"""The walk-up kiosk: the Textual app a researcher (or an operator on their behalf) goes through."""
