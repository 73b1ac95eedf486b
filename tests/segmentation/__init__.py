"""Tests of core/segmentation/."""
