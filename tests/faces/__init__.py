"""Tests of core/faces/."""
