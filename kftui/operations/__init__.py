"""Headless operations (deploy, quota filing) shared by the wizard's steps and the command line."""
