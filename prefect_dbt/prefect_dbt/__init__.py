"""core-blocks integration for dbt: block types and tasks arrive with its own issue."""
