"""indice-kiosk: re-apply for a lost UMIN INDICE password, at a walk-up terminal or over SSH."""
