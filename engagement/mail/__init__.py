"""Outgoing mail: templates rendered to text and HTML, MIME messages with safe headers, transports."""
