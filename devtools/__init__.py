"""Tools for developing and testing indice-kiosk; not part of the installed product."""
