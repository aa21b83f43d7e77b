"""The server: the asyncio runtime that drives the routing engine, and the HTTP API."""
