"""Tests of the PyFlink jobs' pure logic; they run with the standard library only (no PyFlink)."""
