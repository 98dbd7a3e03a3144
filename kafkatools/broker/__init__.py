"""The asyncio broker: connection loop, dispatch table, one handler module per API."""
