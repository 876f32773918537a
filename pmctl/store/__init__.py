"""The store: every SQL statement pmctl runs lives in this package."""
