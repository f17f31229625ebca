"""Gymnasium-style environments over a lockstep ftwin server.

``FtwinVectorEnv`` drives every world of the served scenario at once (observations shaped
``[worlds, obs_dim]``); ``FtwinEnv`` is the single-world case with the plain Gymnasium
signatures. Gymnasium itself is optional: when it is installed the classes derive from
``gymnasium.Env`` and use ``gymnasium.spaces.Box`` so that its env checker accepts them.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .client import Client

try:  # optional
    import gymnasium as _gym
    from gymnasium import spaces as _spaces

    _EnvBase: Any = _gym.Env
except ImportError:  # pragma: no cover - depends on the machine
    _gym = None
    _spaces = None
    _EnvBase = object


class Box:
    """A box space (the subset of gymnasium.spaces.Box this package needs)."""

    def __init__(self, low: np.ndarray, high: np.ndarray, dtype=np.float64, seed: Optional[int] = None):
        self.low = np.asarray(low, dtype=dtype)
        self.high = np.asarray(high, dtype=dtype)
        self.shape = self.low.shape
        self.dtype = np.dtype(dtype)
        self._rng = np.random.default_rng(seed)

    def seed(self, seed: Optional[int] = None) -> None:
        self._rng = np.random.default_rng(seed)

    def sample(self) -> np.ndarray:
        low = np.where(np.isfinite(self.low), self.low, -1.0)
        high = np.where(np.isfinite(self.high), self.high, 1.0)
        return self._rng.uniform(low, high).astype(self.dtype)

    def contains(self, x: Any) -> bool:
        x = np.asarray(x)
        return x.shape == self.shape and bool(np.all(x >= self.low) and np.all(x <= self.high))

    def __repr__(self) -> str:
        return f"Box({self.shape}, {self.dtype})"


def _make_box(low: np.ndarray, high: np.ndarray):
    if _spaces is not None:
        return _spaces.Box(low=low, high=high, dtype=np.float64)
    return Box(low, high)


RewardFn = Callable[[Dict[str, np.ndarray]], np.ndarray]


class FtwinVectorEnv(_EnvBase):
    """All worlds of a lockstep server as one vectorised environment.

    obs_fields: field names (or '<prefix>*') concatenated per world into the observation.
    action_fields: input fields the action sets, concatenated per world.
    reward: a field name (prefix '-' to negate) summed per world, or a callable taking the
        observation arrays by name and returning one reward per world.
    ticks_per_step: engine ticks one step advances.
    episode_ticks: truncation horizon (default: the scenario's duration).
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        control: str = "tcp://127.0.0.1:5555",
        *,
        obs_fields: Sequence[str],
        action_fields: Sequence[str],
        reward: Any = None,
        ticks_per_step: int = 1,
        episode_ticks: Optional[int] = None,
        name: str = "ftwin-env",
        client: Optional[Client] = None,
    ):
        self.client = client or Client(control)
        hello = self.client.hello(name, "controller", obs=list(obs_fields))
        self.schema = {f["name"]: f for f in hello.header["schema"]}
        run = hello.header["run"]
        self.num_worlds = int(run["worlds"])
        self.ticks_per_step = int(ticks_per_step)
        duration_ticks = int(run["duration_ns"]) // int(run["dt_ns"])
        self.episode_ticks = int(episode_ticks) if episode_ticks else max(duration_ticks, 1)
        self.obs_patterns = list(obs_fields)
        self.action_fields = list(action_fields)
        for target in self.action_fields:
            if target not in self.schema or self.schema[target]["kind"] != "input":
                raise ValueError(f"action field '{target}' is not an input field of the served scenario")
        self.reward = reward
        # Resolve the observation layout from one observation.
        first = self.client.get(*self.obs_patterns)
        self.obs_names = list(first.arrays.keys())
        self._obs_low, self._obs_high = self._bounds(self.obs_names)
        act_low, act_high = self._bounds(self.action_fields)
        self._act_sizes = [self._elements(n) for n in self.action_fields]
        self.single_observation_space = _make_box(self._obs_low, self._obs_high)
        self.single_action_space = _make_box(act_low, act_high)
        self.observation_space = _make_box(
            np.tile(self._obs_low, (self.num_worlds, 1)), np.tile(self._obs_high, (self.num_worlds, 1))
        )
        self.action_space = _make_box(np.tile(act_low, (self.num_worlds, 1)), np.tile(act_high, (self.num_worlds, 1)))
        self._ticks = 0

    def _elements(self, name: str) -> int:
        return int(np.prod(self.schema[name]["shape"], dtype=np.int64)) if self.schema[name]["shape"] else 1

    def _bounds(self, names: Iterable[str]) -> Tuple[np.ndarray, np.ndarray]:
        low: List[float] = []
        high: List[float] = []
        for name in names:
            field = self.schema[name]
            n = self._elements(name)
            lo = -np.inf if field["lower"] is None else float(field["lower"])
            hi = np.inf if field["upper"] is None else float(field["upper"])
            low += [lo] * n
            high += [hi] * n
        return np.array(low, dtype=np.float64), np.array(high, dtype=np.float64)

    def _flatten(self, arrays: Dict[str, np.ndarray]) -> np.ndarray:
        parts = [np.asarray(arrays[n], dtype=np.float64).reshape(self.num_worlds, -1) for n in self.obs_names]
        return np.concatenate(parts, axis=1) if parts else np.zeros((self.num_worlds, 0))

    def _reward(self, arrays: Dict[str, np.ndarray]) -> np.ndarray:
        if self.reward is None:
            return np.zeros(self.num_worlds)
        if callable(self.reward):
            return np.asarray(self.reward(arrays), dtype=np.float64).reshape(self.num_worlds)
        name = str(self.reward)
        sign = -1.0 if name.startswith("-") else 1.0
        name = name.lstrip("-")
        value = arrays[name] if name in arrays else self.client.get(name).arrays[name]
        return sign * np.asarray(value, dtype=np.float64).reshape(self.num_worlds, -1).sum(axis=1)

    def reset(self, *, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None):
        overrides = (options or {}).get("overrides")
        reply = self.client.reset(seed=seed, overrides=overrides, obs=self.obs_patterns)
        self._ticks = 0
        obs = self._flatten(reply.arrays)
        return obs, {"tick": reply.tick, "episode": reply.header.get("episode")}

    def step(self, action: np.ndarray):
        action = np.asarray(action, dtype=np.float64).reshape(self.num_worlds, -1)
        actions = {}
        offset = 0
        for name, size in zip(self.action_fields, self._act_sizes):
            actions[name] = np.ascontiguousarray(action[:, offset : offset + size])
            offset += size
        if offset != action.shape[1]:
            raise ValueError(f"action has {action.shape[1]} values per world, expected {offset}")
        reply = self.client.step(actions, ticks=self.ticks_per_step, obs=self.obs_patterns)
        self._ticks += self.ticks_per_step
        obs = self._flatten(reply.arrays)
        reward = self._reward(reply.arrays)
        terminated = np.zeros(self.num_worlds, dtype=bool)
        truncated = np.full(self.num_worlds, self._ticks >= self.episode_ticks)
        info = {"tick": reply.tick, "resets": reply.header.get("resets", 0)}
        return obs, reward, terminated, truncated, info

    def render(self):
        return None

    def close(self):
        self.client.close()


class FtwinEnv(FtwinVectorEnv):
    """One world: observations shaped [obs_dim], scalar rewards, Gymnasium signatures."""

    def __init__(self, control: str = "tcp://127.0.0.1:5555", **kwargs: Any):
        super().__init__(control, **kwargs)
        if self.num_worlds != 1:
            raise ValueError(f"FtwinEnv needs a one-world scenario (served: {self.num_worlds}); use FtwinVectorEnv")
        self.observation_space = self.single_observation_space
        self.action_space = self.single_action_space

    def reset(self, *, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None):
        if _gym is not None:
            super(FtwinVectorEnv, self).reset(seed=seed)  # seeds gymnasium's np_random
        obs, info = super().reset(seed=seed, options=options)
        return obs[0], info

    def step(self, action: np.ndarray):
        obs, reward, terminated, truncated, info = super().step(np.asarray(action).reshape(1, -1))
        return obs[0], float(reward[0]), bool(terminated[0]), bool(truncated[0]), info
