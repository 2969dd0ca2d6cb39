"""Domain services: each opens the unit of work, validates, acts, commits once."""
