"""podwatch package."""
