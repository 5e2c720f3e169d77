"""Fax on demand: documents rendered as Group 3 fax pages, touch-tone ordering, fax jobs."""
