"""Tests of seawall.notify: routing, grouping, silences, escalation and real deliveries over loopback."""
