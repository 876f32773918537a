"""An Alpaca-compatible paper trading emulator for tests, demos and incident rehearsals.

The package root imports nothing so that ``pmctl sim`` stays cheap to load; use
``pmctl.sim.server.SimServer`` and ``pmctl.sim.state.SimState`` directly.
"""
