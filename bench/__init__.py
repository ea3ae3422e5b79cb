"""The benchmark harness (`make bench`): the whole system on this machine, measured against
ceilings taken in the same run, so results are ratios that hold on a noisy machine."""
