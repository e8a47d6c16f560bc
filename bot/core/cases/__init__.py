"""The case and its life: states and transitions (lifecycle), what people do to a case
(actions, withdrawal), who may see and do what (permissions), the card (cards), scheduled
handover work (handover) and the audit trail (audit)."""
