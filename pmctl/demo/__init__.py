"""The incident of 2026-02-03 as a database and a broker, for ``pmctl demo`` and the replay tests."""
