"""Control and stream clients of the ftwin bridge (docs/protocol.md)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import zmq

PROTOCOL_VERSION = 1

DTYPES = {
    "f64": np.dtype("<f8"),
    "f32": np.dtype("<f4"),
    "i64": np.dtype("<i8"),
    "i32": np.dtype("<i4"),
    "u8": np.dtype("u1"),
}
_NAMES = {v: k for k, v in DTYPES.items()}


class BridgeError(RuntimeError):
    """An error reply: ``code`` is one of the protocol's error codes."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def decode_arrays(header: Mapping[str, Any], frames: Sequence[Any]) -> Dict[str, np.ndarray]:
    """Turns the array frames after a header into numpy arrays without copying."""
    descriptors = header.get("arrays", [])
    if len(descriptors) != len(frames):
        raise BridgeError("malformed", f"header describes {len(descriptors)} arrays, got {len(frames)} frames")
    arrays = {}
    for desc, frame in zip(descriptors, frames):
        buffer = frame.buffer if isinstance(frame, zmq.Frame) else frame
        dtype = DTYPES[desc["dtype"]]
        array = np.frombuffer(buffer, dtype=dtype).reshape(desc["shape"])
        arrays[desc["name"]] = array
    return arrays


@dataclass
class Reply:
    header: Dict[str, Any]
    arrays: Dict[str, np.ndarray] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    @property
    def tick(self) -> int:
        return int(self.header.get("tick", -1))


@dataclass
class StreamMessage(Reply):
    topic: str = ""

    @property
    def seq(self) -> int:
        return int(self.header.get("seq", 0))


def _curve(socket: zmq.Socket, curve: Optional[Tuple[str, str, str]]) -> None:
    """curve = (server_public, client_public, client_secret), Z85 strings."""
    if curve is None:
        return
    server_public, client_public, client_secret = curve
    socket.curve_serverkey = server_public.encode()
    socket.curve_publickey = client_public.encode()
    socket.curve_secretkey = client_secret.encode()


def load_curve(server_key_file: str, client_stem: str) -> Tuple[str, str, str]:
    """Reads keys written by ``ftwin keygen``: the server's .key and the client's pair."""

    def first_key(path: str) -> str:
        with open(path, encoding="ascii") as handle:
            for line in handle:
                line = line.strip()
                if line and not line.startswith("#"):
                    return line
        raise ValueError(f"{path}: no key")

    return first_key(server_key_file), first_key(client_stem + ".key"), first_key(client_stem + ".key_secret")


class Client:
    """A DEALER connection to the control endpoint; one request in flight at a time."""

    def __init__(
        self,
        control: str = "tcp://127.0.0.1:5555",
        *,
        context: Optional[zmq.Context] = None,
        timeout_s: float = 30.0,
        curve: Optional[Tuple[str, str, str]] = None,
    ):
        self.context = context or zmq.Context.instance()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.linger = 0
        _curve(self.socket, curve)
        self.socket.connect(control)
        self.timeout_s = timeout_s
        self._next_id = 1
        self.hello_reply: Optional[Reply] = None

    # -- raw requests ---------------------------------------------------------------------

    def send(self, header: Dict[str, Any], arrays: Sequence[np.ndarray] = (), names: Sequence[str] = ()) -> int:
        header = dict(header)
        header.setdefault("id", self._next_id)
        self._next_id += 1
        header["sent_ns"] = time.time_ns()
        frames: List[Any] = []
        if arrays:
            descriptors = []
            for i, array in enumerate(arrays):
                array = np.ascontiguousarray(array)
                dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
                if dtype not in _NAMES:
                    array = array.astype(np.float64)
                    dtype = array.dtype
                name = names[i] if i < len(names) else f"array{i}"
                descriptors.append({"name": name, "dtype": _NAMES[np.dtype(dtype)], "shape": list(array.shape)})
                frames.append(memoryview(array.astype(dtype, copy=False)).cast("B"))
            header["arrays"] = descriptors
        self.socket.send_multipart([json.dumps(header).encode()] + frames, copy=False)
        return header["id"]

    def receive(self, timeout_s: Optional[float] = None) -> Reply:
        timeout = self.timeout_s if timeout_s is None else timeout_s
        if not self.socket.poll(int(timeout * 1000)):
            raise TimeoutError(f"no reply from the ftwin server within {timeout} s")
        frames = self.socket.recv_multipart(copy=False)
        header = json.loads(frames[0].bytes)
        reply = Reply(header, decode_arrays(header, frames[1:]))
        if not header.get("ok", False):
            raise BridgeError(header.get("error", "internal"), header.get("message", ""))
        return reply

    def request(self, op: str, arrays: Sequence[np.ndarray] = (), names: Sequence[str] = (), **fields: Any) -> Reply:
        fields["op"] = op
        self.send(fields, arrays, names)
        return self.receive()

    # -- protocol requests ----------------------------------------------------------------

    def hello(
        self,
        name: str = "python",
        role: str = "controller",
        *,
        obs: Optional[Iterable[str]] = None,
        deadline_ms: Optional[float] = None,
        safe: Optional[str] = None,
        drives: Optional[Iterable[str]] = None,
    ) -> Reply:
        fields: Dict[str, Any] = {"versions": [PROTOCOL_VERSION], "name": name, "role": role}
        if obs is not None:
            fields["obs"] = list(obs)
        if deadline_ms is not None:
            fields["deadline_ms"] = deadline_ms
        if safe is not None:
            fields["safe"] = safe
        if drives is not None:
            fields["drives"] = list(drives)
        self.hello_reply = self.request("hello", **fields)
        return self.hello_reply

    @property
    def schema(self) -> Dict[str, Dict[str, Any]]:
        """Field descriptors by name, from the hello reply."""
        if self.hello_reply is None:
            raise RuntimeError("call hello() first")
        return {f["name"]: f for f in self.hello_reply.header["schema"]}

    def _actions(self, actions: Optional[Mapping[str, Any]], worlds: Optional[Sequence[int]]):
        """Scalars and lists travel as JSON values; numpy arrays as binary frames."""
        entries, arrays, names = [], [], []
        for target, value in (actions or {}).items():
            if isinstance(value, np.ndarray):
                entry: Dict[str, Any] = {"target": target, "array": len(arrays)}
                if worlds is not None:
                    entry["worlds"] = list(worlds)
                entries.append(entry)
                arrays.append(value)
                names.append(target)
            else:
                values = [float(v) for v in np.atleast_1d(value)]
                entries.append({"target": target, "values": values})
        return entries, arrays, names

    def step(
        self,
        actions: Optional[Mapping[str, Any]] = None,
        *,
        ticks: Optional[int] = None,
        obs: Optional[Iterable[str]] = None,
        worlds: Optional[Sequence[int]] = None,
    ) -> Reply:
        entries, arrays, names = self._actions(actions, worlds)
        fields: Dict[str, Any] = {}
        if entries:
            fields["actions"] = entries
        if ticks is not None:
            fields["ticks"] = int(ticks)
        if obs is not None:
            fields["obs"] = list(obs)
        if worlds is not None:
            fields["worlds"] = list(worlds)
        return self.request("step", arrays, names, **fields)

    def set(self, target: str, values: Any, world: int = -1) -> Reply:
        return self.request("set", target=target, values=[float(v) for v in np.atleast_1d(values)], world=world)

    def get(self, *fields: str, worlds: Optional[Sequence[int]] = None) -> Reply:
        extra = {"worlds": list(worlds)} if worlds is not None else {}
        return self.request("get", fields=list(fields), **extra)

    def kpis(self) -> Dict[str, float]:
        """The episode's KPIs so far by "<block>.<kpi>" (aggregated across worlds)."""
        reply = self.request("kpis")
        return {k["name"]: (float("nan") if k["value"] is None else k["value"]) for k in reply.header["kpis"]}

    def snapshot(self, worlds: Optional[Sequence[int]] = None, engine: bool = False) -> Reply:
        extra: Dict[str, Any] = {"engine": engine}
        if worlds is not None:
            extra["worlds"] = list(worlds)
        return self.request("snapshot", **extra)

    def reset(
        self,
        seed: Optional[int] = None,
        overrides: Optional[Mapping[str, Any]] = None,
        worlds: Optional[Sequence[int]] = None,
        obs: Optional[Iterable[str]] = None,
    ) -> Reply:
        fields: Dict[str, Any] = {}
        if seed is not None:
            fields["seed"] = int(seed)
        if overrides:
            fields["overrides"] = dict(overrides)
        if worlds is not None:
            fields["worlds"] = list(worlds)
        if obs is not None:
            fields["obs"] = list(obs)
        return self.request("reset", **fields)

    def fault(self, target: str, params: Sequence[float] = (), duration_s: Optional[float] = None, world: int = -1) -> Reply:
        fields: Dict[str, Any] = {"target": target, "params": [float(p) for p in params], "world": world}
        if duration_s is not None:
            fields["duration_s"] = float(duration_s)
        return self.request("fault", **fields)

    def subscribe(self, topic: str, fields: Iterable[str], every_ticks: int = 1) -> Reply:
        return self.request("subscribe", topic=topic, fields=list(fields), every_ticks=int(every_ticks))

    def pause(self) -> Reply:
        return self.request("pause")

    def resume(self) -> Reply:
        return self.request("resume")

    def close(self) -> None:
        try:
            self.request("close")
        except (BridgeError, TimeoutError):
            pass
        self.socket.close(0)


class Subscriber:
    """A SUB socket on the state stream; counts missed messages from sequence gaps."""

    def __init__(
        self,
        stream: str = "tcp://127.0.0.1:5556",
        topics: Iterable[str] = ("",),
        *,
        context: Optional[zmq.Context] = None,
        curve: Optional[Tuple[str, str, str]] = None,
        hwm: int = 1000,
    ):
        self.context = context or zmq.Context.instance()
        self.socket = self.context.socket(zmq.SUB)
        self.socket.linger = 0
        self.socket.rcvhwm = hwm
        _curve(self.socket, curve)
        for topic in topics:
            self.socket.setsockopt(zmq.SUBSCRIBE, topic.encode())
        self.socket.connect(stream)
        self.last_seq: Dict[str, int] = {}
        self.gaps = 0

    def recv(self, timeout_s: float = 1.0) -> Optional[StreamMessage]:
        if not self.socket.poll(int(timeout_s * 1000)):
            return None
        frames = self.socket.recv_multipart(copy=False)
        topic = frames[0].bytes.decode()
        header = json.loads(frames[1].bytes)
        message = StreamMessage(header, decode_arrays(header, frames[2:]), topic)
        previous = self.last_seq.get(topic)
        if previous is not None and message.seq > previous + 1:
            self.gaps += message.seq - previous - 1
        self.last_seq[topic] = message.seq
        return message

    def close(self) -> None:
        self.socket.close(0)
