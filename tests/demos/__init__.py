"""Tests of demos/ (tab callbacks without a browser)."""
