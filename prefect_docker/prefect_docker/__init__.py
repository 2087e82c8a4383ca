"""core-blocks integration for docker: block types and tasks arrive with its own issue."""
