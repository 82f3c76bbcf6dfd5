"""PyFlink jobs for Managed Service for Apache Flink (one folder per job, plus their tests)."""
