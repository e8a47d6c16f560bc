"""The case and its life: states and transitions (lifecycle), what people do to a case
(actions, withdrawal), who may see and do what (permissions), the card (cards), who is told
about a case (notify), scheduled handover work (handover)."""
