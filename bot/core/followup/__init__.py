"""After the handover: the placement and the follow-ups that keep a finger on the pulse."""
