"""The admin's services: accounts, sessions, the queue and its actions, the overview, lookups."""
