"""Everything printed: the form, the FAX cover, the handouts, the test page (the only users of reportlab)."""
