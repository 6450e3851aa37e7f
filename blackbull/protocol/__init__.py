"""Sans-I/O protocol cores: bytes in → events out, events in → bytes out.

Nothing below this package imports asyncio, opens sockets or reads clocks; the server
(``blackbull.server``) and the clients (``blackbull.client``) drive these cores.
"""
