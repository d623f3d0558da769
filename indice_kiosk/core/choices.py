"""What a person picks on the route step: which application, and the kind of UMIN ID.

Apart from the rest of the application model (indice_kiosk/core/application.py, which re-exports both):
a session holds these from its start, while the model's checks and records are needed only once a
person has agreed, so the welcome screen comes up without them (bench/RESULTS.md, row 1).
"""

from __future__ import annotations

from enum import StrEnum


class Route(StrEnum):
    INDICE_ONLY = "indice-only"
    INDICE_AND_GENERAL = "indice-and-general"
    NOT_ISSUED = "not-issued"


class IdType(StrEnum):
    PERSONAL = "personal"
    GROUP = "group"
