"""The operator console: CUPS queues and the kiosk's jobs, site settings (a Textual app for the help desk)."""
