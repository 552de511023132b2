"""CPU time of processes, from /proc/PID/stat: the one reader the benchmarks share
(platform_bench's CPU per call, apiget_profile's profile, metrics_timeseries' API cost).
utime + stime count every thread of the process and, unlike wall time, do not grow when
other jobs load the machine."""

import os

TICK = os.sysconf("SC_CLK_TCK")  # clock ticks per second, the unit of utime and stime


def proc_cpu(pid):
    """(comm, utime + stime in ticks) of pid, or None when it is gone (or never was)."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            st = f.read()
    except OSError:
        return None
    # comm is in parentheses and may hold spaces and ")": the fields follow the last ")"
    fields = st[st.rindex(")") + 2:].split()
    return st[st.index("(") + 1:st.rindex(")")], int(fields[11]) + int(fields[12])


def all_cpu():
    """{pid: (comm, ticks)} of every process now."""
    out = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            got = proc_cpu(pid)
            if got is not None:
                out[int(pid)] = got
    return out


def cpu_seconds(pids):
    """utime + stime of the processes, in seconds; a process gone counts 0."""
    return sum(got[1] for got in map(proc_cpu, pids) if got is not None) / TICK
