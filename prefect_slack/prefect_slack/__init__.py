"""core-blocks integration for slack: block types and tasks arrive with its own issue."""
