"""Kernels for tests that execute notebooks: talking over Unix sockets, not TCP ports.

jupyter_client picks a kernel's five TCP ports by binding to port 0 and letting go, and the
kernel binds them a moment later; with lessons run three at a time beside other test workers
starting kernels and servers, another process can take a port in between ("Address already in
use", "Kernel died before replying to kernel_info": seen under ``make test``).  IPC sockets
named inside a folder of the test's own cannot collide.
"""

from __future__ import annotations

from pathlib import Path

from traitlets.config import Config


def ipc_kernels(folder: Path) -> Config:
    """Configuration for ``NotebookClient(..., config=...)``: its kernel listens on IPC sockets
    ``folder/kernel-1`` ... (``folder`` must be private to this kernel and have a short path:
    a Unix socket's name is at most 107 bytes)."""
    return Config({"KernelManager": {"transport": "ipc", "ip": str(folder / "kernel")}})
