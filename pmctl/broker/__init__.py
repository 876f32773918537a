"""The broker adapter: alpaca-py in, plain data out. The core never sees past it."""
