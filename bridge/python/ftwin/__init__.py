"""Python client of the ftwin bridge (docs/protocol.md).

Uses Debian's python3-zmq and python3-numpy only. ``Client`` speaks the control protocol,
``Subscriber`` reads the state stream, and ``FtwinEnv`` / ``FtwinVectorEnv`` wrap a lockstep
server in the Gymnasium method signatures (without depending on gymnasium).
"""

from .client import PROTOCOL_VERSION, BridgeError, Client, Reply, StreamMessage, Subscriber
from .env import Box, FtwinEnv, FtwinVectorEnv

__all__ = [
    "PROTOCOL_VERSION",
    "BridgeError",
    "Box",
    "Client",
    "FtwinEnv",
    "FtwinVectorEnv",
    "Reply",
    "StreamMessage",
    "Subscriber",
]
