"""The functional core: plain data in (a snapshot), plain data out (a plan). No I/O."""
