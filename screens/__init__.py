"""The kiosk's screens: one module per step, plus the app that moves between them."""
