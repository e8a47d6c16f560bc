"""Knowing who leaves: the leaver's fields, the guided intake, registering and correcting a
leaver, the CSV import and the forecasting rounds."""
