"""indice-kiosk core: settings, session, application model, PDF and printing. No screen code here."""
