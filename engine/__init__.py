from engine import offline as _offline

_offline.enforce()
