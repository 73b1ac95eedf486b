"""Tests of core/: the shared pieces here, one folder per area."""
