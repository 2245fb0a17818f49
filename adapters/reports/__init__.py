"""Exports of kntc's data for readers outside it (the department's website, spreadsheets)."""
