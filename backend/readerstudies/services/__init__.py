"""Writes of reader studies, by concern: design, ai (frozen results), reading, events (time)."""
