"""The core: answers, the steps and the consent rule, the session and its wipe, settings, words. No
Textual, no reportlab, no pycups (tests/test_layout.py)."""
