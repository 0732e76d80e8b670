"""Adapters over the official google-cloud-* clients (REST transport); they return core types."""
