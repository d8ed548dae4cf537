"""Start ``mpi_worker.py`` under ``mpiexec -n N`` (bounded in time), or say why MPI is not usable here."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("mpi_worker.py")


def find_mpiexec() -> str | None:
    """The venv's mpiexec (the MPICH/Open MPI wheels put it next to python), else the one on PATH."""
    local = Path(sys.executable).parent / "mpiexec"
    if local.is_file():
        return str(local)
    return shutil.which("mpiexec") or shutil.which("mpirun")


def why_not() -> str | None:
    """None when mpi4py and an mpiexec are present, else the reason the MPI tests skip."""
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install 'gradlab[mpi]', as `make test` does)"
    if find_mpiexec() is None:
        return "no mpiexec found next to python or on PATH (pip install 'gradlab[mpi]' brings MPICH's)"
    return None


def mpiexec_command(n: int) -> tuple[list[str], dict[str, str]]:
    """``([mpiexec, -n, n, ...flags], env)`` to start ``n`` ranks; Open MPI gets the flags it needs as root on 2
    cores, and the environment drops pytest's and any outer launcher's variables."""
    exe = find_mpiexec()
    assert exe is not None
    cmd = [exe, "-n", str(n)]
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    if "Open MPI" in version or "OpenRTE" in version:
        cmd += ["--oversubscribe"] + (["--allow-run-as-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    for var in [k for k in env if k.startswith(("PYTEST_", "OMPI_COMM_WORLD", "PMI_", "PMIX_"))]:
        env.pop(var)
    return cmd, env


def launch(mode: str, out: Path, n: int = 2, timeout: float = 180) -> subprocess.CompletedProcess:
    """``mpiexec -n n python mpi_worker.py mode out``."""
    cmd, env = mpiexec_command(n)
    cmd += [sys.executable, str(WORKER), mode, str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=str(ROOT))
