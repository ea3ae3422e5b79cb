"""The realtime gateway: the agents' REST API and the websocket that never misses an event."""
