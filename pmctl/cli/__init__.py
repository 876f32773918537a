"""The command line: parses, calls the core, renders. No decisions live here."""
