"""Headless operations (deploy, quota filing): what both the wizard's steps and the commands carry out."""
