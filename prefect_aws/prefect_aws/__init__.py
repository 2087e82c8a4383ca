"""core-blocks integration for aws: block types and tasks arrive with its own issue."""
