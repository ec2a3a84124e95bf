"""Tests of seawall.chaos: vendor simulators and fault injection over real loopback HTTP."""
