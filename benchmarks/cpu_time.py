"""The CPU time a process has used so far, from /proc (Linux only; no dependencies, for any side's Python)."""
import os


def cpu_seconds(pid):
    """(user, system) CPU seconds the process ``pid`` has used so far (all its threads)."""
    with open("/proc/%d/stat" % pid) as stat:
        # After the command name in parentheses: utime and stime are fields 14 and 15.
        fields = stat.read().rsplit(")", 1)[1].split()
    tick = float(os.sysconf("SC_CLK_TCK"))
    return int(fields[11]) / tick, int(fields[12]) / tick
