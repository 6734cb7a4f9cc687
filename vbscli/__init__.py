"""vbs: a command-line client for the Volume Backup Service (VBS) API."""

__version__ = "0.1.0"
