"""Tests of core/style/."""
