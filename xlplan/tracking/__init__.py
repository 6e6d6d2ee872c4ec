"""Tracking through the year: actuals, variance against phased targets, warnings, board."""
