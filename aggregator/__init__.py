"""Agenda ESS 05: pulls member associations' calendars into one shared agenda."""

__version__ = "0.1.0"
